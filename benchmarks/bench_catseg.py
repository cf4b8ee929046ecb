"""Training iterations per second and peak memory of CAT-Seg (configs/seg/catseg_*): B/16 at 384 px, batch 4.

    python benchmarks/bench_catseg.py                                 # catseg_vit-b16 and catseg_eva02-b16, CPU (+ GPU)
    python benchmarks/bench_catseg.py --configs catseg_vit-b16 --device cpu --repeats 2 --batch 2

Per (config, device), a fresh subprocess builds the config's model with random CLIP weights (weights do not change
the cost) and the config's optimizer (AdamW, CLIP x0.01, query/value fine-tuning, gradient clipping) and times
whole training steps (``train_step``: data preprocessor, text tower over COCO-Stuff's 171 class names, image tower at
384 px, the head, BCE, backward, optimizer step) on random 384 px crops with random labels. One warm-up step, then
``--repeats`` timed steps; the median is reported. Memory: as in ``bench_dense.py`` (CPU: growth of the peak
resident set over what was resident before the step; GPU: ``max_memory_allocated`` above the allocation before it).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_dense's measuring call
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker(config, device, repeats, batch):
    import torch
    sys.path.insert(0, ROOT)
    from bench_dense import _call
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    import clipself.seg  # noqa: F401
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'seg', f'{config}_coco-stuff_80k_original.py'))
    cfg.model.clip.pretrained = None
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model).to(device).train()
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
    g = torch.Generator().manual_seed(0)
    data = dict(inputs=[torch.randint(0, 256, (3, 384, 384), dtype=torch.uint8, generator=g) for _ in range(batch)],
                data_samples=[SegDataSample(gt_sem_seg=PixelData(
                    data=torch.randint(0, 171, (1, 384, 384), generator=g))) for _ in range(batch)])
    for s in data['data_samples']:
        s.set_metainfo(dict(img_shape=(384, 384), ori_shape=(384, 384), pad_shape=(384, 384)))
    step = lambda d: model.train_step(d, optim)  # noqa: E731
    step(data)  # warm-up
    times, peak = [], 0.0
    for _ in range(repeats):
        t, p, _ = _call(step, data, device)
        times.append(t)
        peak = max(peak, p)
    med = statistics.median(times)
    return dict(config=config, device=device, batch=batch, seconds_per_iter=round(med, 3),
                iters_per_s=round(1.0 / med, 4), peak_mib=round(peak, 1), threads=torch.get_num_threads())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--configs', nargs='+', default=['catseg_vit-b16', 'catseg_eva02-b16'])
    p.add_argument('--device', choices=['cpu', 'cuda', 'all'], default='all')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--batch', type=int, default=4, help='crops per step (the configs: 4)')
    p.add_argument('--worker', nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], args.repeats, args.batch)))
        return
    import torch
    devices = ['cpu', 'cuda'] if args.device == 'all' else [args.device]
    devices = [d for d in devices if d == 'cpu' or torch.cuda.is_available()]
    print(f'load average before: {os.getloadavg()}')
    for config in args.configs:
        for device in devices:
            out = subprocess.run([sys.executable, __file__, '--worker', config, device, '--repeats', str(args.repeats),
                                  '--batch', str(args.batch)], capture_output=True, text=True,
                                 env=dict(os.environ, PYTHONPATH=ROOT))
            if out.returncode:
                print(f'{config} {device}: failed with exit status {out.returncode} (negative: killed by that signal, '
                      f'-9 typically out of memory)\n{out.stderr[-2000:]}')
                continue
            print(out.stdout.strip().splitlines()[-1])
    print(f'load average after: {os.getloadavg()}')


if __name__ == '__main__':
    main()
