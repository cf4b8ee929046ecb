"""Peak memory (and time) of one ``encode_dense`` call with ReViT residual attention against the plain tower, at
full size: EVA02-B/16 (random weights, no download) at 1024 px (64 x 64 tokens + CLS), batch 1, no gradient.

Rows: the plain tower (fused attention); ``residual_attention=dict(alpha=0.5)`` (the scores mixed and carried from
block to block); and alpha 1.0 (an identity: the tower keeps its fused attention, so it must cost what the plain
one costs). Each row runs in its own process; the figure is the process's peak memory during the call minus its
memory just before it (CPU: peak RSS from ``getrusage``; CUDA: ``max_memory_allocated`` minus the allocated
bytes before), i.e. the activations and temporaries of the forward, not the weights.

Expected from the shapes (docs/vit_variants.md): the carried scores are one ``[heads, N, N]`` fp32 tensor (12 x
4097^2 x 4 B = 805 MB at 1024 px) plus two per-head ``[N, N]`` temporaries (134 MB): never a second block's scores.

    python benchmarks/bench_revit_memory.py [--size 1024] [--model EVA02-B-16] [--device cpu|cuda]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = {'plain tower': None, 'ReViT alpha 0.5': 0.5, 'ReViT alpha 1.0 (identity)': 1.0}


def _rss_mb() -> float:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2 ** 20


def run_row(model_name: str, size: int, alpha, device: str) -> dict:
    import torch

    from clipself.models import build_clip
    torch.manual_seed(0)
    options = {} if alpha is None else dict(residual_attention=dict(alpha=alpha))
    model = build_clip(model_name, **options).eval().to(device)
    x = torch.randn(1, 3, size, size, device=device)
    with torch.no_grad():
        if device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated() / 2 ** 20
        else:
            before = _rss_mb()
        t0 = time.perf_counter()
        out = model.encode_dense(x)
        if device == 'cuda':
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2 ** 20 if device == 'cuda' else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 10
    return dict(extra_mb=peak - before, seconds=seconds, shape=list(out.shape))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--size', type=int, default=1024)
    p.add_argument('--model', default='EVA02-B-16')
    p.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    p.add_argument('--row', help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.row is not None:
        print(json.dumps(run_row(args.model, args.size, ROWS[args.row], args.device)))
        return
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + [q for q in os.environ.get('PYTHONPATH', '').split(
        os.pathsep) if q]))
    print(f'encode_dense, {args.model} random weights, {args.size} px, batch 1, no gradient, {args.device}; '
          f'1-min load {os.getloadavg()[0]:.1f}')
    print('| row | memory of the call (MB) | seconds | output |')
    print('|---|---|---|---|')
    for row in ROWS:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), '--row', row, '--size', str(args.size),
                               '--model', args.model, '--device', args.device], capture_output=True, text=True,
                              env=env)
        if proc.returncode:
            sys.exit(f'row {row!r} failed:\n{proc.stderr[-3000:]}')
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f'| {row} | {r["extra_mb"]:.0f} | {r["seconds"]:.1f} | {r["shape"]} |')


if __name__ == '__main__':
    main()
