"""Time of one distillation iteration with and without DeCLIP's context loss, on the shapes-world setting: the demo's
CLIP (``assets/demo_clip_eva02-small-8.safetensors``, EVA02 6 blocks of width 128) at 192 px, batch 2, 20 boxes per
image, 64 px crops, AdamW, CPU fp32. Rows: CLIPSelf ('value'), the decoupled 'qq' block alone, 'qq' + context loss
(self teacher, block 2), 'csa' + context loss. All rows live in one process and their iterations alternate row by
row, so background load falls on all of them alike; the table gives the median (min-max) of ``--repeats`` timed
iterations after one warm-up each.

    python benchmarks/bench_context.py [--repeats 9] [--size 192] [--boxes 20]
"""
import argparse
import os
import statistics
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = {'clipself (value)': ('value', None), 'qq, no context loss': ('qq', None),
        'qq + context (self, block 2)': ('qq', 2), 'csa + context (self, block 2)': ('csa', 2)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--repeats', type=int, default=9)
    p.add_argument('--size', type=int, default=192)
    p.add_argument('--boxes', type=int, default=20)
    args = p.parse_args()
    import torch

    from clipself.distill import CLIPSelf
    torch.manual_seed(0)
    clip = os.path.join(ROOT, 'assets', 'demo_clip_eva02-small-8.safetensors')
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(2, args.boxes, 2, generator=g) * args.size * 0.7
    wh = torch.rand(2, args.boxes, 2, generator=g) * args.size * 0.3 + 8
    batch = dict(images=torch.randint(0, 256, (2, 3, args.size, args.size), dtype=torch.uint8, generator=g),
                 boxes=list(torch.cat([xy, xy + wh], -1)),
                 crops=torch.randint(0, 256, (2 * args.boxes, 3, 64, 64), dtype=torch.uint8, generator=g))
    steps = {}
    for name, (mode, block) in ROWS.items():
        model = CLIPSelf(clip=dict(model_name='EVA02-Small-8', pretrained=clip, dense_mode=mode),
                         context_teacher=None if block is None else dict(type='self', block=block)).train()
        opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=1e-5)

        def step(model=model, opt=opt):
            opt.zero_grad(set_to_none=True)
            losses = model.loss(batch['images'], batch['boxes'], batch['crops'])
            sum(v for k, v in losses.items() if k.startswith('loss_')).backward()
            opt.step()
        step()  # warm-up
        steps[name] = step
    times = {name: [] for name in ROWS}
    for _ in range(args.repeats):
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
    load = os.getloadavg()[0]
    print(f'distillation iteration, EVA02-Small-8 demo CLIP, {args.size} px, batch 2, {args.boxes} boxes / image, '
          f'CPU fp32 ({torch.get_num_threads()} threads), {args.repeats} alternating iterations per row, '
          f'1-min load {load:.1f}')
    base = statistics.median(times['clipself (value)'])
    print('| row | median s / iteration (min-max) | x clipself |')
    print('|---|---|---|')
    for name, t in times.items():
        m = statistics.median(t)
        print(f'| {name} | {m:.3f} ({min(t):.3f}-{max(t):.3f}) | {m / base:.2f} |')


if __name__ == '__main__':
    main()
