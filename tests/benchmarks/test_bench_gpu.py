"""benchmarks/bench_gpu.py runs end to end in its smoke mode (tiny towers on the CPU): the GPU session can then run
it in one call. One case (dense: compiling a training step as well takes minutes on a loaded 2-core machine; the compiled step is
the same compile_encoders call, tested in tests/models/test_speed_options.py), eager and compiled, each in its own
process as on the GPU."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_gpu_smoke(tmp_path):
    out = tmp_path / 'gpu.json'
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, 'benchmarks', 'bench_gpu.py'), '--smoke', '--cases',
                           'dense-b16', '--json', str(out)], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [r['impl'] for r in rows] == ['ours', 'ours-compiled']
    for r in rows:
        assert 'error' not in r, r['error']
        assert r['model'] == 'EVA02-Tiny-8' and r['device'] == 'cpu' and r['iters'] == 2
        assert 0 < r['min_s'] <= r['median_s'] <= r['max_s']
        assert r['tflop_per_iter'] > 0 and 0 < r['mfu'] < 1 and r['peak_gib'] > 0
    assert rows[0]['tflop_per_iter'] == rows[1]['tflop_per_iter']  # the same forward, counted eagerly
    assert 'images_per_s' in rows[0]
    assert '| dense-b16 (EVA02-Tiny-8, 72 px, batch 2) | ours-compiled |' in proc.stdout
