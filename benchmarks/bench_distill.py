"""One CLIPSelf training iteration (teacher on the crops + student forward/backward + AdamW step) for a
B/16-sized random EVA02 at 1024 px with 20 boxes: seconds per image and peak memory, with and without
activation checkpointing. CPU fp32 here; GPU bf16 autocast when CUDA is available.

    .venv/bin/python benchmarks/bench_distill.py [--model EVA02-B-16] [--size 1024] [--boxes 20] [--repeats 3]

``--dense-mode qq`` / ``csa`` distils DeCLIP's decoupled last block and ``--context-block B`` adds its context loss
toward the frozen CLIP's own affinity after block B (docs/context_distillation.md): run with and without it to
compare (the iteration then also runs the teacher's blocks 0..B on the student's input).

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` on the same iteration without activation
checkpointing (matmuls and attention, forward + backward: the useful work; recomputation is not counted), so
the TFLOP/s column can be read as a fraction of the accelerator's peak.
Each configuration runs in a fresh subprocess so that peak memory (CPU: max RSS; GPU: max allocated)
belongs to it alone: one warm-up iteration, then ``--repeats`` (at least 3) timed ones; the table gives their
median and their range (min-max).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def make_train_step(model, batch: dict, dev: str):
    """A function running one CLIPSelf training iteration on ``batch`` (AdamW lr 1e-5 on the trainable
    parameters; bf16 autocast on CUDA, fp32 on CPU), synchronised so that wall time measures it."""
    import torch
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    autocast = torch.autocast('cuda', dtype=torch.bfloat16) if dev == 'cuda' else torch.autocast('cpu', enabled=False)

    def step():
        opt.zero_grad(set_to_none=True)
        with autocast:
            losses = model.loss(batch['image'], batch['boxes'], batch['crops'], image_ids=batch.get('image_id'))
            loss = sum(v for k, v in losses.items() if k.startswith('loss_'))
        loss.backward()
        opt.step()
        if dev == 'cuda':
            torch.cuda.synchronize()
    return step


def one_config(args) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from clipself.distill import CLIPSelf
    torch.manual_seed(0)
    dev = 'cuda' if args.device == 'cuda' else 'cpu'
    context = None if args.context_block is None else dict(type='self', block=args.context_block)
    model = CLIPSelf(clip=dict(model_name=args.model, dense_mode=args.dense_mode), grad_checkpointing=args.ckpt,
                     context_teacher=context).to(dev).train()
    t = model.student.image_size[0]
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(args.boxes, 2, generator=g) * args.size * 0.7
    wh = torch.rand(args.boxes, 2, generator=g) * args.size * 0.3 + 16
    batch = dict(image=[torch.randint(0, 255, (3, args.size, args.size), dtype=torch.uint8).to(dev)],
                 boxes=[torch.cat([xy, xy + wh], 1).to(dev)],
                 crops=[torch.randint(0, 255, (args.boxes, 3, t, t), dtype=torch.uint8).to(dev)], skipped=[0])
    step = make_train_step(model, batch, dev)

    if args.count_flops:  # its own process: the counter disables fused attention, which would skew memory
        counter = FlopCounterMode(display=False)
        with counter:
            step()
        return dict(tflop=counter.get_total_flops() / 1e12)
    step()  # warm-up (also allocates the optimiser state)
    if dev == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    peak = (torch.cuda.max_memory_allocated() if dev == 'cuda'
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return dict(seconds=statistics.median(times), min_s=min(times), max_s=max(times), n=len(times),
                peak_gib=peak / 2 ** 30)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', default='EVA02-B-16')
    p.add_argument('--size', type=int, default=1024)
    p.add_argument('--boxes', type=int, default=20)
    p.add_argument('--repeats', type=int, default=3, help='timed iterations per configuration (at least 3)')
    p.add_argument('--device', choices=['cpu', 'cuda', 'auto'], default='auto')
    p.add_argument('--peak-tflops', type=float, default=None,
                   help='accelerator peak (TFLOP/s) for the utilisation column, e.g. 989 for H100 bf16 dense')
    p.add_argument('--dense-mode', default='value', choices=['value', 'qq', 'csa'],
                   help="the dense path's last block (DeCLIP: qq)")
    p.add_argument('--context-block', type=int, default=None,
                   help='with --dense-mode qq/csa: context loss toward the frozen CLIP affinity after this block')
    p.add_argument('--ckpt', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--count-flops', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.repeats < 3:
        p.error(f'--repeats {args.repeats}: a median needs at least 3 timed iterations')
    if args.child:
        print(json.dumps(one_config(args)))
        return
    import torch
    device = ('cuda' if torch.cuda.is_available() else 'cpu') if args.device == 'auto' else args.device
    context = '' if args.context_block is None else f', context loss (self teacher, block {args.context_block})'
    print(f'CLIPSelf iteration: {args.model} student at {args.size} px, {args.boxes} boxes, batch 1, '
          f'dense_mode {args.dense_mode}{context}, '
          f'device {device} ({"bf16 autocast" if device == "cuda" else "fp32"}), torch {torch.__version__}')
    def child(*extra):
        cmd = [sys.executable, __file__, '--child', '--model', args.model, '--size', str(args.size), '--boxes',
               str(args.boxes), '--repeats', str(args.repeats), '--device', device, '--dense-mode', args.dense_mode,
               *([] if args.context_block is None else ['--context-block', str(args.context_block)]), *extra]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            print(out.stderr[-2000:])
            raise SystemExit(f'benchmark child failed: {" ".join(extra)}')
        return json.loads(out.stdout.strip().splitlines()[-1])

    tflop = child('--count-flops')['tflop']  # without checkpointing: the useful work of one iteration
    rows = []
    for ckpt in (False, True):
        r = child(*(['--ckpt'] if ckpt else []))
        r.update(ckpt=ckpt, tflop=tflop)
        rows.append(r)
    print(f'{"activation ckpt":>16} {"n":>3} {"median s / image":>17} {"min-max s":>15} {"peak GiB":>9} '
          f'{"TFLOP / iter":>13} {"TFLOP/s":>8}' + (f' {"% of peak":>9}' if args.peak_tflops else ''))
    for r in rows:
        rate = r['tflop'] / r['seconds']
        spread = f'{r["min_s"]:.2f}-{r["max_s"]:.2f}'
        line = (f'{str(r["ckpt"]):>16} {r["n"]:>3} {r["seconds"]:>17.2f} {spread:>15} {r["peak_gib"]:>9.2f} '
                f'{r["tflop"]:>13.2f} {rate:>8.2f}')
        if args.peak_tflops:
            line += f' {100 * rate / args.peak_tflops:>8.1f}%'
        print(line)
    a, b = rows
    print(f'checkpointing: time x{b["seconds"] / a["seconds"]:.2f} (medians), '
          f'peak memory x{b["peak_gib"] / a["peak_gib"]:.2f}')


if __name__ == '__main__':
    main()
