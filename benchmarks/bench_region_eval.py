"""Zero-shot region classification, seconds per image: a B/16-sized random CLIP at a 1024 px dense input on
generated COCO-sized panoptic images (640 x 480, about a dozen regions each), through the real loader and
``CLIPRegionClassifier.test_step`` (rois + crops + maskpool), with the parts timed on their own.

    .venv/bin/python benchmarks/bench_region_eval.py [--model EVA02-B-16] [--size 1024] [--images 3] [--device cpu]

Parts: data (``COCOPanopticRegions.__getitem__``: read, boxes, masks, 1.5x crops), dense (``encode_dense`` of
one image), crops (``encode_image`` of that image's crops), test_step (everything the model does per image:
dense + crops + RoIAlign + token-grid masks + mask pooling + scoring; class embeddings cached beforehand), and
the one-off text embedding (prompt ensemble) per class, cached on disk after the first run.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', default='EVA02-B-16')
    p.add_argument('--size', type=int, default=1024, help='dense input size')
    p.add_argument('--crop-size', type=int, default=224)
    p.add_argument('--images', type=int, default=3, help='timed images (after one warm-up image)')
    p.add_argument('--device', default='cpu')
    args = p.parse_args(argv)

    import torch
    from mmengine.dataset import pseudo_collate

    from clipself.data.panoptic import COCOPanopticRegionDataset
    from clipself.data.synthetic_coco import write_synthetic_coco
    from clipself.engine.region_eval import CLIPRegionClassifier
    from clipself.models import build_clip

    torch.manual_seed(0)
    tmp = tempfile.mkdtemp(prefix='bench_region_eval_')
    write_synthetic_coco(tmp, num_images=args.images + 1, seed=0, size=(480, 640), num_objects=(9, 13),
                         object_size=(24, 220))
    ds = COCOPanopticRegionDataset(data_root=tmp, ann_file='annotations/panoptic.json', img_dir='images',
                                   seg_dir='annotations/panoptic', dense_size=args.size, crop_size=args.crop_size)
    model = build_clip(args.model, device=args.device)
    clf = CLIPRegionClassifier(clip=model, cache_dir=None, templates='vild')
    t0 = time.perf_counter()
    clf.class_embeddings_for(ds.classes)
    text_s = (time.perf_counter() - t0) / len(ds.classes)

    rows = []
    for i in range(len(ds)):
        t0 = time.perf_counter()
        item = ds[i]
        data_s = time.perf_counter() - t0
        batch = pseudo_collate([item])
        t0 = time.perf_counter()
        clf.test_step(batch)
        step_s = time.perf_counter() - t0
        with torch.no_grad():
            x = model.normalize_pixels(item['image'][None].to(args.device))
            t0 = time.perf_counter()
            model.encode_dense(x)
            dense_s = time.perf_counter() - t0
            c = model.normalize_pixels(item['crops'].to(args.device))
            t0 = time.perf_counter()
            model.encode_image(c)
            crops_s = time.perf_counter() - t0
        if i > 0:  # image 0 warms up
            rows.append(dict(regions=len(item['labels']), data=data_s, step=step_s, dense=dense_s, crops=crops_s))
        print(f'image {i}{" (warm-up)" if i == 0 else ""}: {len(item["labels"])} regions, data {data_s:.2f} s, '
              f'test_step {step_s:.2f} s (dense {dense_s:.2f} s, crops {crops_s:.2f} s)', flush=True)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    rest = med['step'] - med['dense'] - med['crops']
    print(f'\n{args.model}, dense {args.size} px, crops {args.crop_size} px, {args.device}, '
          f'torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}; medians over '
          f'{len(rows)} images:')
    print('| regions/image | test_step s/image | dense s | crops s | s per crop | pooling + scoring s | data s/image '
          '| text s/class (once) |')
    print('|---|---|---|---|---|---|---|---|')
    print(f"| {med['regions']:.0f} | {med['step']:.2f} | {med['dense']:.2f} | {med['crops']:.2f} | "
          f"{med['crops'] / max(med['regions'], 1):.3f} | {max(rest, 0):.2f} | {med['data']:.2f} | {text_s:.2f} |")


if __name__ == '__main__':
    main()
