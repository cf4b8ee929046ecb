"""Time and peak memory of ``encode_dense``: our path vs the plain reference path, at detector input sizes.

    python benchmarks/bench_dense.py                       # EVA02-B-16 and ViT-B-16, 448-1024 px, CPU (+ GPU)
    python benchmarks/bench_dense.py --sizes 448 --repeats 5 --models ViT-B-16 --device cpu

Both paths run the same randomly initialised ViT-B/16-sized tower (weights do not change the cost) on one
``[1, 3, S, S]`` image under ``torch.no_grad()``:
- ours: ``DenseCLIP.encode_dense`` (clipself.models.towers: torch SDPA attention, cached pos-embed/RoPE);
- reference: ``clipself.testing.reference.reference_encode_dense`` (explicit ``softmax(q k^T * scale) v``
  materialising the ``[1, heads, N, N]`` matrix, everything recomputed per call).

Each (model, size, device) runs in a fresh subprocess that builds the model, warms up each path with one
call, then makes ``n`` timed calls per path, alternating ours / reference (so that background load on a
shared machine falls on both); the median time is reported.
- CPU: fp32. On CPU, sizes >= 896 px warm up at 448 px and time ``min(--repeats, 2)`` calls (a 1024 px
  reference call takes ~40 s on 2 cores). Peak memory = growth of the process's peak resident set
  (``VmHWM``, reset through ``/proc/self/clear_refs`` before each call) above the resident set just before
  the call, i.e. what one call adds on top of the loaded model and input; the maximum over the timed calls.
  The subprocess runs with ``MALLOC_MMAP_THRESHOLD_=1 MiB`` so that freed tensors go back to the OS and
  the resident set follows live tensor memory (torch has no caching allocator on CPU).
- GPU (when CUDA is available): bf16 autocast; peak memory = ``torch.cuda.max_memory_allocated()`` during
  the call minus the memory allocated before it (model weights, input).
Times are wall-clock medians; "CPU-time ours/ref" is the ratio of the process CPU time (all threads), which a
busy shared machine distorts less than wall time. "max abs diff" is the max |ours - reference| of the two
outputs (both compute the same features: ~1e-7 in fp32, ~1e-2 under bf16); "load" is the 1-minute load
average when the (model, size) finished: above the core count, other processes competed for the CPU.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LARGE = 896  # CPU sizes from here on: warm-up at 448 px, at most 2 timed calls
MIB = 2 ** 20


# -- worker (one model, one size, one device; run in a subprocess) --------------------------------------

def _proc_kib(field):
    with open('/proc/self/status') as f:
        return int(re.search(rf'^{field}:\s+(\d+) kB', f.read(), re.M).group(1))


def _reset_peak_rss():
    with open('/proc/self/clear_refs', 'w') as f:  # '5' resets VmHWM to the current resident set
        f.write('5')


def _call(fn, x, device):
    """One call: ``(wall seconds, process CPU seconds, peak MiB above what was allocated/resident before
    it, output)``."""
    import torch
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(x)
        torch.cuda.synchronize()
        return (time.perf_counter() - t0, time.process_time() - c0,
                (torch.cuda.max_memory_allocated() - base) / MIB, out)
    _reset_peak_rss()
    base = _proc_kib('VmRSS')
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(x)
    return time.perf_counter() - t0, time.process_time() - c0, (_proc_kib('VmHWM') - base) / 1024, out


def _measure(paths, x, warm, repeats, device):
    """Warm up every path, then alternate the paths call by call (background load hits both alike).
    Returns ``{name: (median wall s, median CPU s, max peak MiB, last output)}``."""
    for fn in paths.values():
        fn(warm)
    times = {name: [] for name in paths}
    cpus = {name: [] for name in paths}
    peaks = {name: [] for name in paths}
    outs = {}
    for _ in range(repeats):
        for name, fn in paths.items():
            outs[name] = None  # free the previous output before measuring
            t, c, peak, outs[name] = _call(fn, x, device)
            times[name].append(t)
            cpus[name].append(c)
            peaks[name].append(peak)
    return {name: (statistics.median(times[name]), statistics.median(cpus[name]), max(peaks[name]), outs[name])
            for name in paths}


def worker(model_name, size, device, repeats):
    import torch
    sys.path.insert(0, ROOT)
    from clipself.models import build_clip
    from clipself.testing.reference import reference_encode_dense

    torch.manual_seed(0)
    model = build_clip(model_name, device=device)
    x = torch.randn(1, 3, size, size, device=device)
    if device == 'cpu' and size >= LARGE:
        warm, repeats = torch.randn(1, 3, 448, 448), min(repeats, 2)
    else:
        warm = x
    paths = {'ours': model.encode_dense, 'reference': lambda im: reference_encode_dense(model.clip, im)}
    res = dict(model=model_name, size=size, device=device, repeats=repeats,
               grid=list(model.tower.grid_for((size, size))), torch=torch.__version__,
               threads=torch.get_num_threads())
    ctx = torch.autocast('cuda', dtype=torch.bfloat16) if device == 'cuda' else torch.autocast('cpu', enabled=False)
    with torch.no_grad(), ctx:
        measured = _measure(paths, x, warm, repeats, device)
    for name, (t, c, peak, _) in measured.items():
        res[f'{name}_s'], res[f'{name}_cpu_s'], res[f'{name}_peak_mib'] = t, c, peak
    res['max_abs_diff'] = (measured['ours'][3].float() - measured['reference'][3].float()).abs().max().item()
    res['loadavg_1min'] = os.getloadavg()[0]
    if device == 'cuda':
        res['gpu'] = torch.cuda.get_device_name()
    print('RESULT ' + json.dumps(res), flush=True)


# -- driver ---------------------------------------------------------------------------------------------

def _cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            return re.search(r'^model name\s*:\s*(.*)$', f.read(), re.M).group(1)
    except (OSError, AttributeError):
        return platform.processor() or platform.machine()


def run_one(model_name, size, device, repeats):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MIB), PYTHONWARNINGS='ignore')
    cmd = [sys.executable, os.path.abspath(__file__), '--worker', model_name, str(size), device, str(repeats)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    raise RuntimeError(f'worker {model_name} {size} {device} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}')


def fmt_table(rows):
    head = ('| model | device | size (grid) | n | ours s | reference s | time ours/ref | CPU-time ours/ref | '
            'ours peak MiB | reference peak MiB | peak ours/ref | max abs diff | load |')
    lines = [head, '|' + '---|' * 13]
    for r in rows:
        g = 'x'.join(map(str, r['grid']))
        lines.append(
            f"| {r['model']} | {r['device']} | {r['size']} ({g}) | {r['repeats']} | {r['ours_s']:.3f} | "
            f"{r['reference_s']:.3f} | {r['ours_s'] / r['reference_s']:.2f} | "
            f"{r['ours_cpu_s'] / r['reference_cpu_s']:.2f} | {r['ours_peak_mib']:.0f} | "
            f"{r['reference_peak_mib']:.0f} | {r['ours_peak_mib'] / max(r['reference_peak_mib'], 1e-9):.2f} | "
            f"{r['max_abs_diff']:.1e} | {r['loadavg_1min']:.1f} |")
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[448, 640, 896, 1024])
    p.add_argument('--repeats', type=int, default=3, help='timed calls per path (CPU sizes >= 896: at most 2)')
    p.add_argument('--models', nargs='+', default=['EVA02-B-16', 'ViT-B-16'])
    p.add_argument('--device', choices=['auto', 'cpu', 'cuda'], default='auto',
                   help='auto: CPU, plus CUDA when available')
    p.add_argument('--json', help='also write the results to this file')
    p.add_argument('--worker', nargs=4, metavar=('MODEL', 'SIZE', 'DEVICE', 'REPEATS'), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        m, s, d, n = args.worker
        return worker(m, int(s), d, int(n))

    import torch
    devices = [args.device] if args.device != 'auto' else ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    print(f'# {time.strftime("%Y-%m-%d")}  torch {torch.__version__}  CPU: {_cpu_name()}, '
          f'{os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}', flush=True)
    print('# command: python ' + ' '.join([os.path.relpath(__file__, ROOT)] + sys.argv[1:]), flush=True)
    print('# load average at start: %.2f %.2f %.2f' % os.getloadavg(), flush=True)
    rows = []
    t0 = time.time()
    for device in devices:
        for model_name in args.models:
            for size in args.sizes:
                r = run_one(model_name, size, device, args.repeats)
                rows.append(r)
                print(f'  {model_name} {device} {size}: ours {r["ours_s"]:.3f} s / {r["ours_peak_mib"]:.0f} MiB, '
                      f'reference {r["reference_s"]:.3f} s / {r["reference_peak_mib"]:.0f} MiB '
                      f'({time.time() - t0:.0f} s elapsed)', flush=True)
    if any(r['device'] == 'cuda' for r in rows):
        print(f'# GPU: {next(r["gpu"] for r in rows if r["device"] == "cuda")}')
    print('# load average at end: %.2f %.2f %.2f; %.0f s in all' % (*os.getloadavg(), time.time() - t0))
    print(fmt_table(rows))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
