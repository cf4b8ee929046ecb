"""F-ViT speed and memory with a B/16-sized random backbone (EVA02-B-16 architecture, no weights needed):

- inference: images/s and peak memory at 640 px (a 640x480 image on the 640 canvas, batch 1, with the CLIP
  ensemble), the whole ``model.predict`` (CLIP, pyramid, FPN, RPN, RoI head, NMS);
- training: one step (loss + backward + AdamW) on a batch of 2 images of 640 px with 5 boxes each: seconds,
  peak memory, and the bytes autograd saves for backward, split into "inside the frozen CLIP" and "the rest"
  (``torch.autograd.graph.saved_tensors_hooks``);
- the counterfactual: the same CLIP forward with gradients on (an unfrozen backbone), its saved bytes and peak.

    .venv/bin/python benchmarks/bench_fvit.py [--size 640] [--repeats 3] [--device auto|cpu|cuda]

Each measurement runs in a fresh subprocess. CPU: peak = growth of the peak resident set (``VmHWM``, reset via
``/proc/self/clear_refs``) above the resident set before the measured call, with ``MALLOC_MMAP_THRESHOLD_=1 MiB``
so that freed tensors leave the resident set; GPU: ``torch.cuda.max_memory_allocated`` above the allocation before
the call (needs an mmcv built with CUDA ops).
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
CONFIG = os.path.join(ROOT, 'configs', 'fvit', 'fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_original.py')
MIB = 2 ** 20


def _proc_kib(key: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise KeyError(key)


class Peak:
    """Peak memory of a block above the memory before it (CPU resident set or CUDA allocation)."""

    def __init__(self, device):
        self.cuda = device == 'cuda'

    def __enter__(self):
        import torch
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            self.base = _proc_kib('VmRSS') * 1024
        return self

    def __exit__(self, *exc):
        import torch
        if self.cuda:
            torch.cuda.synchronize()
            self.mib = (torch.cuda.max_memory_allocated() - self.base) / MIB
        else:
            self.mib = (_proc_kib('VmHWM') * 1024 - self.base) / MIB


def build_model(size: int, device: str):
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    import clipself.det  # noqa: F401
    from clipself.models.vocabulary import load_vocabulary
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(CONFIG).model
    cfg.backbone.pretrained = None   # random weights: the architecture is what costs time and memory
    cfg.roi_head.bbox_head.classifier = dict(cfg.roi_head.bbox_head.classifier, embeddings='random',
                                             class_names=load_vocabulary('ov-coco').names)
    cfg.data_preprocessor.fixed_size = cfg.data_preprocessor.test_fixed_size = (size, size)
    text = json.dumps(cfg.to_dict()).replace('"SyncBN"', '"BN"')  # one process
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(json.loads(text))
    model.init_weights()
    return model.to(device)


def sample(h, w, n_boxes, device, seed):
    import torch
    from mmengine.structures import InstanceData
    from mmdet.structures import DetDataSample
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)
    s = DetDataSample(metainfo=dict(img_id=seed, img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0)))
    xy = torch.rand(n_boxes, 2, generator=g) * torch.tensor([w, h]) * 0.6
    wh = torch.rand(n_boxes, 2, generator=g) * 150 + 30
    s.gt_instances = InstanceData(bboxes=torch.cat([xy, xy + wh], 1), labels=torch.zeros(n_boxes, dtype=torch.long))
    return img, s


def child(args) -> dict:
    import torch
    torch.set_grad_enabled(True)
    dev = args.device
    model = build_model(args.size, dev)
    sync = torch.cuda.synchronize if dev == 'cuda' else (lambda: None)
    if args.mode == 'infer':
        model.eval()
        img, s = sample(args.size * 3 // 4, args.size, 0, dev, 0)
        data = dict(inputs=[img], data_samples=[s])

        def run():
            with torch.no_grad():
                return model.test_step(copy.deepcopy(data))
        run()
        sync()
        times = []
        with Peak(dev) as peak:
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                out = run()
                sync()
                times.append(time.perf_counter() - t0)
        return dict(seconds=sorted(times)[len(times) // 2], peak_mib=peak.mib,
                    detections=len(out[0].pred_instances))
    if args.mode == 'train':
        model.train()
        data = dict(inputs=[sample(args.size, args.size, 5, dev, k)[0] for k in range(2)],
                    data_samples=[sample(args.size, args.size, 5, dev, k)[1] for k in range(2)])
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        saved = dict(backbone=0, rest=0)
        inside = [False]

        def pack(t):
            saved['backbone' if inside[0] else 'rest'] += t.numel() * t.element_size()
            return t
        model.backbone.register_forward_pre_hook(lambda *a: inside.__setitem__(0, True))
        model.backbone.register_forward_hook(lambda *a: inside.__setitem__(0, False))

        def step(count=False):
            opt.zero_grad(set_to_none=True)
            d = model.data_preprocessor(copy.deepcopy(data), True)
            if count:
                with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                    losses = model.loss(d['inputs'], d['data_samples'])
            else:
                losses = model.loss(d['inputs'], d['data_samples'])
            loss = sum(sum(v) if isinstance(v, list) else v for k, v in losses.items() if 'loss' in k)
            loss.backward()
            opt.step()
        step(count=True)   # warm-up (optimiser state) + saved-tensor accounting
        sync()
        times = []
        with Peak(dev) as peak:
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                step()
                sync()
                times.append(time.perf_counter() - t0)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
        return dict(seconds=sorted(times)[len(times) // 2], peak_mib=peak.mib, saved_backbone_mib=saved['backbone'] / MIB,
                    saved_rest_mib=saved['rest'] / MIB, trainable_m=trainable / 1e6, frozen_m=frozen / 1e6)
    # counterfactual: the CLIP forward of a training batch with gradients on, as an unfrozen backbone would run
    clip = model.backbone.clip
    clip.requires_grad_(True)
    x = torch.randn(2, 3, args.size, args.size, device=dev)
    nbytes = [0]

    def pack(t):
        nbytes[0] += t.numel() * t.element_size()
        return t
    with Peak(dev) as peak, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        feats = clip.forward_features(x, [3, 5, 7, 11], dense_last=True)
    return dict(peak_mib=peak.mib, saved_backbone_mib=nbytes[0] / MIB)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--size', type=int, default=640)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--device', choices=['cpu', 'cuda', 'auto'], default='auto')
    p.add_argument('--mode', choices=['infer', 'train', 'unfrozen'], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.mode:
        print(json.dumps(child(args)))
        return
    import torch
    device = ('cuda' if torch.cuda.is_available() else 'cpu') if args.device == 'auto' else args.device
    print(f'F-ViT, EVA02-B-16-sized random backbone, {args.size} px, device {device} (fp32), torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads')
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MIB), PYTHONWARNINGS='ignore')
    res = {}
    for mode in ('infer', 'train', 'unfrozen'):
        cmd = [sys.executable, __file__, '--mode', mode, '--size', str(args.size), '--repeats', str(args.repeats),
               '--device', device]
        t0 = time.time()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
        if out.returncode != 0:
            print(out.stderr[-3000:])
            raise SystemExit(f'benchmark child {mode} failed')
        res[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        res[mode]['wall_s'] = time.time() - t0
    i, t, u = res['infer'], res['train'], res['unfrozen']
    print(f'inference: {1 / i["seconds"]:.3f} images/s ({i["seconds"]:.2f} s/image, median of {args.repeats}), '
          f'peak +{i["peak_mib"]:.0f} MiB, {i["detections"]} detections')
    print(f'training step (batch 2): {t["seconds"]:.2f} s, peak +{t["peak_mib"]:.0f} MiB; saved for backward: '
          f'{t["saved_backbone_mib"]:.1f} MiB inside the frozen CLIP, {t["saved_rest_mib"]:.0f} MiB in the rest; '
          f'parameters {t["trainable_m"]:.1f} M trainable, {t["frozen_m"]:.1f} M frozen')
    print(f'unfrozen counterfactual: the CLIP forward alone with gradients on would save {u["saved_backbone_mib"]:.0f} '
          f'MiB for backward (peak +{u["peak_mib"]:.0f} MiB)')
    print(json.dumps(res))


if __name__ == '__main__':
    main()
