"""GPU throughput of dense extraction and of the CLIPSelf training step: ours eager, ours compiled, and the original
CLIPSelf code on the same random weights (issue 16's table), one process per case and implementation.

    python benchmarks/bench_gpu.py --json gpu.json                              # all cases, ours eager + compiled
    python benchmarks/bench_gpu.py --reference-src PATH/TO/CLIPSelf --json gpu.json   # ... and the original code
    python benchmarks/bench_gpu.py --smoke                                      # tiny towers on the CPU (a test)

Cases (``--cases``):
- ``dense-b16``: ``encode_dense`` of EVA02-B/16 at 1024 px, batch 8, no grad;
- ``step-b16``: one CLIPSelf step of EVA02-B/16 at 1024 px, batch 2, 20 boxes per image, 224 px teacher crops
  (teacher forward on the 40 crops, student ``encode_dense`` + RoIAlign + cosine loss, backward, AdamW);
- ``dense-l14`` / ``step-l14``: the same for EVA02-L/14-336 at 896 px (batch 4 / batch 2, 336 px crops).
Implementations (``--impls``): ``ours`` (``DenseCLIP`` / ``CLIPSelf``), ``ours-compiled`` (the same with
``torch.compile`` of the encoders), ``original`` (the authors' ``EVAVisionTransformer`` imported from
``--reference-src``: ``encode_dense`` for the dense cases; for the step, its student ``encode_dense`` + torchvision
RoIAlign 1x1 as its ``extract_roi_features`` does, its tower as the teacher, the same loss and AdamW).

On CUDA everything runs under bf16 autocast (``--dtype``); our frozen teacher is held in bf16
(``CLIPSelf(teacher_in_amp_dtype=True)``, the default). Per case: ``--warmup`` untimed iterations (3; compilation
happens there), then the median of ``--iters`` (10) timed ones (CUDA synchronised); peak memory is
``torch.cuda.max_memory_allocated`` over the timed iterations (weights, optimiser state and activations; on the CPU
the peak resident set); MFU = FLOPs of one iteration (counted by ``torch.utils.flop_counter.FlopCounterMode`` on the
eager path: matmuls, convolutions, attention; forward and backward) / median time / ``--peak-tflops`` (989, the
H200/H100 SXM dense bf16 figure).

Needs only torch (+ torchvision's RoIAlign, which our ``roi_features`` and the original code use), open_clip, timm
and this repository: see benchmarks/README.md for running it on a machine without them installed.
"""
import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CASES = {
    'dense-b16': dict(model='EVA02-B-16', size=1024, batch=8, kind='dense'),
    'step-b16': dict(model='EVA02-B-16', size=1024, batch=2, boxes=20, kind='step'),
    'dense-l14': dict(model='EVA02-L-14-336', size=896, batch=4, kind='dense'),
    'step-l14': dict(model='EVA02-L-14-336', size=896, batch=2, boxes=20, kind='step'),
}
SMOKE = dict(model='EVA02-Tiny-8', size=72, batch=2, boxes=3)  # replaces the sizes of every case in --smoke
IMPLS = ('ours', 'ours-compiled', 'original')
GIB = 2 ** 30


# -- one case in this process -----------------------------------------------------------------------------

def _random_boxes(gen, n, size, device):
    """``n`` random xyxy boxes inside a ``size`` square, at least 16 px wide/high."""
    import torch
    xy = torch.rand(n, 2, generator=gen) * (size - 16)
    wh = 16 + torch.rand(n, 2, generator=gen) * (size - 16 - xy)
    return torch.cat([xy, xy + wh], 1).to(device)


def build_dense(case, impl, device, compile_options, reference_src):
    """``(fn, model)``: ``fn()`` runs ``encode_dense`` on a fixed random batch, without grad."""
    import torch
    from clipself.models import build_clip
    torch.manual_seed(0)
    model = build_clip(case['model'], device=device).eval().requires_grad_(False)
    x = torch.randn(case['batch'], 3, case['size'], case['size'], device=device)
    if impl == 'original':
        from bench_dense import original_encoder
        encode = original_encoder(model, reference_src, device)
    else:
        encode = model.encode_dense

    def fn():
        with torch.no_grad():
            return encode(x)
    return fn, (lambda: model.compile_encoders(**compile_options)) if impl == 'ours-compiled' else None


def build_step(case, impl, device, compile_options, reference_src):
    """``(fn, compile)``: ``fn()`` runs one CLIPSelf training step (loss, backward, AdamW) on a fixed random batch."""
    import torch
    import torch.nn.functional as F
    from clipself.distill import CLIPSelf
    torch.manual_seed(0)
    model = CLIPSelf(clip=dict(model_name=case['model'], device=device)).train()
    t = model.student.image_size[0]
    gen = torch.Generator().manual_seed(1)
    b, k, s = case['batch'], case['boxes'], case['size']
    images = torch.randint(0, 256, (b, 3, s, s), dtype=torch.uint8, generator=gen).to(device)
    boxes = [_random_boxes(gen, k, s, device) for _ in range(b)]
    crops = torch.randint(0, 256, (b * k, 3, t, t), dtype=torch.uint8, generator=gen).to(device)
    if impl != 'original':
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)

        def fn():
            opt.zero_grad(set_to_none=True)
            loss = model.loss(images, boxes, crops)['loss_cosine']
            loss.backward()
            opt.step()
            return loss.detach()
        if impl == 'ours-compiled':
            def compile_now():
                model.student.compile_encoders(**compile_options)
                model.teacher.compile_encoders(**compile_options)
            return fn, compile_now
        return fn, None

    from torchvision.ops import roi_align
    from bench_dense import original_tower
    student = original_tower(model.student, reference_src, device).train()
    teacher = copy.deepcopy(student).eval().requires_grad_(False)
    model = None  # our towers are not needed any more (frees their memory)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073], device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711], device=device).view(1, 3, 1, 1) * 255
    opt = torch.optim.AdamW([p for p in student.parameters() if p.requires_grad], lr=1e-5)

    def fn():  # the original training step (src/training/clipself.py) on its own towers
        opt.zero_grad(set_to_none=True)
        x = (images.float() - mean) / std
        c = (crops.float() - mean) / std
        with torch.no_grad():
            target = F.normalize(teacher(c), dim=-1)
        dense = student.encode_dense(x, keep_shape=True)  # shape: [B, D, h, w]
        scale = dense.shape[-1] / s
        rois = roi_align(dense, [bx * scale for bx in boxes], (1, 1), 1.0, -1, True)[..., 0, 0]
        loss = 1 - (F.normalize(rois, dim=-1) * target).sum(-1).mean()
        loss.backward()
        opt.step()
        return loss.detach()
    return fn, None


def _proc_kib(field):
    import re
    with open('/proc/self/status') as f:
        return int(re.search(rf'^{field}:\s+(\d+) kB', f.read(), re.M).group(1))


def worker(name, case, impl, device, iters, warmup, dtype, compile_options, reference_src, peak_tflops):
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    sys.path.insert(0, ROOT)
    sys.path.insert(0, HERE)
    build = build_dense if case['kind'] == 'dense' else build_step
    fn, compile_now = build(case, impl, device, compile_options, reference_src)
    cuda = device == 'cuda'
    amp = torch.autocast('cuda', dtype=getattr(torch, dtype)) if cuda else torch.autocast('cpu', enabled=False)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    with amp:
        with FlopCounterMode(display=False) as counter:  # eager, before any compilation
            fn()
        flops = counter.get_total_flops()
        if compile_now is not None:
            compile_now()
        for _ in range(warmup):
            fn()
        sync()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        else:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')  # resets the peak resident set (VmHWM)
        times = []
        for _ in range(iters):
            sync()
            t0 = time.perf_counter()
            fn()
            sync()
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    peak = torch.cuda.max_memory_allocated() / GIB if cuda else _proc_kib('VmHWM') / 2 ** 20
    res = dict(case=name, impl=impl, device=device, model=case['model'], size=case['size'], batch=case['batch'],
               boxes=case.get('boxes'), kind=case['kind'], iters=iters, warmup=warmup, median_s=med,
               min_s=min(times), max_s=max(times), peak_gib=peak, tflop_per_iter=flops / 1e12,
               mfu=flops / med / (peak_tflops * 1e12), torch=torch.__version__,
               dtype=dtype if cuda else 'float32',
               gpu=torch.cuda.get_device_name() if cuda else None, loadavg_1min=os.getloadavg()[0])
    if case['kind'] == 'dense':
        res['images_per_s'] = case['batch'] / med
    print('RESULT ' + json.dumps(res), flush=True)


# -- driver ---------------------------------------------------------------------------------------------------

def run_one(name, case, impl, args):
    cmd = [sys.executable, os.path.abspath(__file__), '--worker', json.dumps(dict(
        name=name, case=case, impl=impl, device=args.device, iters=args.iters, warmup=args.warmup, dtype=args.dtype,
        compile_options=args.compile_options, reference_src=args.reference_src, peak_tflops=args.peak_tflops))]
    env = dict(os.environ, PYTHONWARNINGS='ignore', PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    return dict(case=name, impl=impl, device=args.device, model=case['model'], error=(proc.stderr or proc.stdout)[-2000:])


def fmt_table(rows):
    lines = ['| case | impl | median ms (min-max) | images/s | peak GiB | GFLOP/iter | MFU | vs ours |',
             '|---|---|---|---|---|---|---|---|']
    ours = {r['case']: r for r in rows if r['impl'] == 'ours' and 'error' not in r}
    for r in rows:
        if 'error' in r:
            err = r['error'].strip().splitlines()[-1] if r['error'].strip() else 'failed'
            lines.append(f"| {r['case']} | {r['impl']} | failed: {err[:120]} | | | | | |")
            continue
        ref = ours.get(r['case'])
        speed = f"{ref['median_s'] / r['median_s']:.2f}x" if ref else '-'
        ips = f"{r['images_per_s']:.1f}" if 'images_per_s' in r else '-'
        lines.append(f"| {r['case']} ({r['model']}, {r['size']} px, batch {r['batch']}) | {r['impl']} | "
                     f"{1e3 * r['median_s']:.1f} ({1e3 * r['min_s']:.1f}-{1e3 * r['max_s']:.1f}) | {ips} | "
                     f"{r['peak_gib']:.2f} | {1e3 * r['tflop_per_iter']:.4g} | {100 * r['mfu']:.2g}% | {speed} |")
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--cases', nargs='+', choices=list(CASES), default=list(CASES))
    p.add_argument('--impls', nargs='+', choices=IMPLS, default=None,
                   help='default: ours and ours-compiled, plus original with --reference-src')
    p.add_argument('--device', choices=['cuda', 'cpu'], default=None, help='default: cuda when available')
    p.add_argument('--iters', type=int, default=10, help='timed iterations (the median is reported)')
    p.add_argument('--warmup', type=int, default=3, help='untimed iterations first (compilation happens there)')
    p.add_argument('--dtype', choices=['bfloat16', 'float16'], default='bfloat16', help='autocast dtype on CUDA')
    p.add_argument('--peak-tflops', type=float, default=989.0, help='the device peak for MFU (989: H200/H100 bf16)')
    p.add_argument('--compile-backend', default='inductor', help='torch.compile backend of ours-compiled')
    p.add_argument('--compile-mode', default=None, help='torch.compile mode of ours-compiled (e.g. max-autotune)')
    p.add_argument('--reference-src', metavar='PATH', help='a checkout of github.com/wusize/CLIPSelf')
    p.add_argument('--smoke', action='store_true',
                   help=f'tiny towers ({SMOKE["model"]}, {SMOKE["size"]} px) on the CPU, 2 iterations after 1 warm-up, '
                        'compiled with the aot_eager backend: checks that every path runs')
    p.add_argument('--json', help='write the results here')
    p.add_argument('--worker', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        w = json.loads(args.worker)
        return worker(w['name'], w['case'], w['impl'], w['device'], w['iters'], w['warmup'], w['dtype'],
                      w['compile_options'], w['reference_src'], w['peak_tflops'])

    import torch
    cases = {n: dict(CASES[n]) for n in args.cases}
    if args.smoke:
        for c in cases.values():
            c.update(SMOKE if c['kind'] == 'step' else {k: v for k, v in SMOKE.items() if k != 'boxes'})
        args.device = args.device or 'cpu'
        args.iters, args.warmup, args.compile_backend = min(args.iters, 2), min(args.warmup, 1), 'aot_eager'
    args.device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if args.device == 'cuda' and not torch.cuda.is_available():
        p.error('--device cuda: no CUDA device here')
    args.compile_options = dict(backend=args.compile_backend, **({'mode': args.compile_mode} if args.compile_mode
                                                                  else {}))
    impls = args.impls or ['ours', 'ours-compiled'] + (['original'] if args.reference_src else [])
    if 'original' in impls:
        if not args.reference_src:
            p.error('--impls original needs --reference-src PATH')
        sys.path.insert(0, HERE)
        from bench_dense import ORIGINAL_CONFIGS, _import_original
        _import_original(args.reference_src)  # fail early on a wrong path
        if any(c['model'] not in ORIGINAL_CONFIGS for c in cases.values()):
            p.error(f'--impls original: the original code has no config for {sorted({c["model"] for c in cases.values()})}')
    print(f'# {time.strftime("%Y-%m-%d %H:%M")}  torch {torch.__version__}  device {args.device}'
          + (f' ({torch.cuda.get_device_name()})' if args.device == 'cuda' else '')
          + f'  autocast {args.dtype if args.device == "cuda" else "off (fp32)"}', flush=True)
    print('# command: python ' + ' '.join([os.path.relpath(__file__, ROOT)] + sys.argv[1:] if argv is None else
                                         [os.path.relpath(__file__, ROOT)] + list(argv)), flush=True)
    rows, t0 = [], time.time()
    for name, case in cases.items():
        for impl in impls:
            r = run_one(name, case, impl, args)
            rows.append(r)
            status = 'failed' if 'error' in r else f"{1e3 * r['median_s']:.1f} ms, {r['peak_gib']:.2f} GiB"
            print(f'  {name} {impl}: {status} ({time.time() - t0:.0f} s elapsed)', flush=True)
    print(fmt_table(rows))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == '__main__':
    main()
