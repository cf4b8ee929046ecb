"""Images per second that ONE data-loader worker delivers for CLIPSelf distillation: ``CLIPSelfDataset.__getitem__``
(decode a COCO-sized JPEG, resize-pad it to the student size, cut and resize one teacher crop per box plus the
whole image), in one process with one torch thread, as a DataLoader worker runs it.

    python benchmarks/bench_loader.py                      # 1024 px student, 20 grid boxes, 224 px crops (B/16)
    python benchmarks/bench_loader.py --student 896 --crop 336   # L/14-336

Writes ``--images`` random 640 x 480 JPEGs (smooth noise, quality 90: about COCO's file size) to a temporary folder,
reads each once as a warm-up, then times ``--repeats`` passes over them; also times the parts of an item alone.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_images(folder, n, seed=0):
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    for i in range(n):
        small = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((640, 480), Image.BICUBIC)
        noise = rng.normal(0, 12, (480, 640, 3))
        arr = np.clip(np.asarray(img, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(os.path.join(folder, f'{i:06d}.jpg'), quality=90)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--student', type=int, default=1024)
    p.add_argument('--crop', type=int, default=224)
    p.add_argument('--boxes', type=int, default=20)
    p.add_argument('--images', type=int, default=8)
    p.add_argument('--repeats', type=int, default=3)
    args = p.parse_args(argv)
    sys.path.insert(0, ROOT)
    import numpy as np
    import torch
    from PIL import Image
    from clipself.data.distill_dataset import CLIPSelfDataset
    from clipself.data.transforms import crop_resize_pad, resize_pad
    torch.set_num_threads(1)  # as in a DataLoader worker
    with tempfile.TemporaryDirectory() as tmp:
        write_images(tmp, args.images)
        ds = CLIPSelfDataset(img_dir=tmp, sampler='grid', student_size=args.student, crop_size=args.crop,
                             max_boxes=args.boxes)
        n_boxes = [len(ds[i]['boxes']) for i in range(len(ds))]  # warm-up
        per_item = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for i in range(len(ds)):
                ds[i]
            per_item.append((time.perf_counter() - t0) / len(ds))
        # the parts alone, on the first image
        path = os.path.join(tmp, '000000.jpg')
        boxes = ds[0]['boxes'].numpy() / (args.student / 640)

        def timed(fn, k=5):
            ts = []
            for _ in range(k):
                t0 = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t0)
            return statistics.median(ts)
        img = Image.open(path).convert('RGB')
        t_decode = timed(lambda: Image.open(path).convert('RGB'))
        t_student = timed(lambda: resize_pad(img, args.student))
        t_crops = timed(lambda: [crop_resize_pad(img, b, args.crop) for b in boxes]) / len(boxes)
    med = statistics.median(per_item)
    print(f'# {time.strftime("%Y-%m-%d %H:%M")}  torch {torch.__version__}  1 thread  load average '
          '%.1f %.1f %.1f' % os.getloadavg())
    print(f'# student {args.student} px, up to {args.boxes} boxes (mean {np.mean(n_boxes):.1f}), crops {args.crop} px, '
          f'{args.images} images x {args.repeats}')
    print('| per worker | images/s | s/item (min-max of passes) | decode s | student resize s | s per crop |')
    print('|---|---|---|---|---|---|')
    print(f'| 1 process, 1 thread | {1 / med:.1f} | {med:.3f} ({min(per_item):.3f}-{max(per_item):.3f}) | '
          f'{t_decode:.4f} | {t_student:.4f} | {t_crops:.4f} |')


if __name__ == '__main__':
    main()
