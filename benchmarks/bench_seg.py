"""Images per second and peak memory of training-free segmentation at the benchmarks' standard test scale.

    python benchmarks/bench_seg.py                                   # EVA02-B-16 and ViT-B-16, CPU (+ GPU)
    python benchmarks/bench_seg.py --models ViT-B-16 --repeats 3 --device cpu

Per (model, test scale, last block, device), a fresh subprocess builds a randomly initialised tower (weights do not
change the cost) as a ``ZeroShotSegmentor`` with the 21 VOC classes (random text embeddings, so the text tower is not
timed) and segments one generated image per call through the whole test path of
``tools/test.py``: mmseg's resize to the short side, the data preprocessor, slide inference with 224 px windows and
stride 112, then the similarities resized to the original image, the softmax, best synonym and argmax there.
- short side 336 (VOC/Context/Object/ADE): a 500 x 375 image -> 448 x 336, 6 windows;
- short side 448 (COCO-Stuff): a 640 x 480 image -> 597 x 448, 12 windows.
One warm-up call, then ``--repeats`` timed calls; the median is reported. Memory: as in ``bench_dense.py`` (CPU:
growth of the peak resident set over what was resident before the call, malloc returning freed memory; GPU:
``max_memory_allocated`` above the allocation before the call; fp32 on both).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_dense's measuring call
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 2 ** 20
SCALES = {336: (375, 500), 448: (480, 640)}  # short side -> a typical original image (H, W) of those datasets


def worker(model_name, short, last_block, device, repeats):
    import numpy as np
    import torch
    sys.path.insert(0, ROOT)
    from bench_dense import _call
    import torch.nn.functional as F
    from clipself.seg.inference import build_segmentor, image_pipeline, predict_one

    torch.manual_seed(0)
    model = build_segmentor(model_name=model_name, pretrained=None, classes='voc21', last_block=last_block,
                            bg_index=0, bg_threshold=0.1, device=device)
    q = len(model.classes.queries)  # random text embeddings: the text tower is not what is measured
    model.query_embeddings = F.normalize(torch.randn(q, model.clip.embed_dim, device=device), dim=-1)
    h, w = SCALES[short]
    image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    pipeline = image_pipeline(short, from_array=True)

    def call(img):
        return predict_one(model, pipeline(dict(img=img)))

    call(image)  # warm-up (text embeddings, position-encoding caches)
    times, peaks = [], []
    for _ in range(repeats):
        t, _, peak, out = _call(call, image, device)
        times.append(t)
        peaks.append(peak)
        assert out.pred_sem_seg.data.shape[-2:] == (h, w)
    res = dict(model=model_name, short_side=short, image=f'{w}x{h}', last_block=last_block, device=device,
               repeats=repeats, s_per_image=statistics.median(times), images_per_s=1 / statistics.median(times),
               peak_mib=max(peaks), threads=torch.get_num_threads(), loadavg_1min=os.getloadavg()[0])
    if device == 'cuda':
        res['gpu'] = torch.cuda.get_device_name()
    print('RESULT ' + json.dumps(res), flush=True)


def run_one(model_name, short, last_block, device, repeats):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MIB), PYTHONWARNINGS='ignore')
    cmd = [sys.executable, os.path.abspath(__file__), '--worker', model_name, str(short), last_block, device,
           str(repeats)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    raise RuntimeError(f'worker {cmd[3:]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', nargs='+', default=['EVA02-B-16', 'ViT-B-16'])
    p.add_argument('--short-sides', type=int, nargs='+', default=[336, 448], choices=sorted(SCALES))
    p.add_argument('--last-blocks', nargs='+', default=['maskclip', 'naclip'])
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--device', choices=['auto', 'cpu', 'cuda'], default='auto')
    p.add_argument('--json', help='also write the results to this file')
    p.add_argument('--worker', nargs=5, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        m, s, lb, d, n = args.worker
        return worker(m, int(s), lb, d, int(n))
    import torch
    devices = [args.device] if args.device != 'auto' else ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    print(f'# {time.strftime("%Y-%m-%d")} torch {torch.__version__}, {os.cpu_count()} logical cores; '
          f'load average at start {os.getloadavg()[0]:.2f}', flush=True)
    rows, t0 = [], time.time()
    for device in devices:
        for model_name in args.models:
            for short in args.short_sides:
                for lb in args.last_blocks:
                    r = run_one(model_name, short, lb, device, args.repeats)
                    rows.append(r)
                    print(f'  {model_name} {device} short {short} {lb}: {r["images_per_s"]:.3g} images/s, '
                          f'{r["peak_mib"]:.0f} MiB ({time.time() - t0:.0f} s)', flush=True)
    print('| model | device | short side (image) | last block | images/s | s/image | peak MiB | load |')
    print('|' + '---|' * 8)
    for r in rows:
        print(f"| {r['model']} | {r['device']}{' ' + r['gpu'] if 'gpu' in r else ''} | {r['short_side']} "
              f"({r['image']}) | {r['last_block']} | {r['images_per_s']:.3g} | {r['s_per_image']:.3f} | "
              f"{r['peak_mib']:.0f} | {r['loadavg_1min']:.1f} |")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
