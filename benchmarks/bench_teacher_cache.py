"""What ``CLIPSelf(cache_teacher=True)`` saves per training iteration once the boxes have been seen (every epoch
after the first, for the proposals variant): iterations with an empty cache and with a full one alternate in one
process, so background load falls on both; median wall time.

    .venv/bin/python benchmarks/bench_teacher_cache.py                       # the demo's tiny CLIP, 192 px
    .venv/bin/python benchmarks/bench_teacher_cache.py --model EVA02-B-16 --size 1024 --batch 1

Random weights and inputs (the cost does not depend on them); batch of ``--batch`` images with ``--boxes`` boxes
each; fp32 on CPU (threads: torch's default), bf16 autocast on CUDA.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_distill's training step


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', default='EVA02-Small-8')
    p.add_argument('--size', type=int, default=192, help='student input side (px)')
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--boxes', type=int, default=20)
    p.add_argument('--repeats', type=int, default=5)
    a = p.parse_args()
    import torch

    from bench_distill import make_train_step
    from clipself.distill import CLIPSelf
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.manual_seed(0)
    model = CLIPSelf(clip=dict(model_name=a.model), cache_teacher=True).to(dev).train()
    t = model.student.image_size[0]
    g = torch.Generator().manual_seed(0)

    def boxes():
        xy = torch.rand(a.boxes, 2, generator=g) * a.size * 0.7
        return torch.cat([xy, xy + torch.rand(a.boxes, 2, generator=g) * a.size * 0.3 + 8], 1).to(dev)
    batch = dict(image=[torch.randint(0, 255, (3, a.size, a.size), dtype=torch.uint8).to(dev) for _ in range(a.batch)],
                 boxes=[boxes() for _ in range(a.batch)],
                 crops=[torch.randint(0, 255, (a.boxes, 3, t, t), dtype=torch.uint8).to(dev) for _ in range(a.batch)],
                 image_id=list(range(a.batch)))
    train_step = make_train_step(model, batch, dev)

    def step(cached: bool) -> float:
        if not cached:
            model._teacher_cache.clear()
        t0 = time.perf_counter()
        train_step()
        return time.perf_counter() - t0

    step(False), step(True)  # warm-up
    times = {False: [], True: []}
    for _ in range(a.repeats):
        for cached in (False, True):
            times[cached].append(step(cached))
    cold, warm = statistics.median(times[False]), statistics.median(times[True])
    print(f'CLIPSelf iteration, {a.model}: student {a.size} px, batch {a.batch} x {a.boxes} boxes, teacher crops '
          f'{t} px, {dev}, torch {torch.__version__}, {torch.get_num_threads()} thread(s), median of {a.repeats}')
    print(f'  teacher encodes the crops: {cold:.3f} s / iteration')
    print(f'  teacher cache hit:         {warm:.3f} s / iteration  (x{warm / cold:.2f})')


if __name__ == '__main__':
    main()
