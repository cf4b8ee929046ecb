"""Make the COCO-Object label maps (80 thing classes + background) from COCO-Stuff's stuffthingmaps.

    python tools/prepare_coco_object.py data/coco_stuff164k/stuffthingmaps_trainval2017/val2017 \\
        data/coco_stuff164k/annotations/val2017

Reads every NAME.png (value = COCO category id - 1, 255 unlabelled), writes NAME_instanceTrainIds.png: 0 background
(every stuff class), 1..80 the thing classes in COCO id order, 255 unlabelled (clipself.seg.COCOObjectDataset).
"""
import argparse
import os
import sys



def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='folder of stuffthingmaps PNGs (e.g. stuffthingmaps_trainval2017/val2017)')
    p.add_argument('dst', help='output folder (e.g. data/coco_stuff164k/annotations/val2017)')
    args = p.parse_args(argv)
    import numpy as np
    from PIL import Image
    from clipself.seg.datasets import coco_object_labels, write_label_png
    names = sorted(f for f in os.listdir(args.src) if f.endswith('.png') and not f.endswith('TrainIds.png'))
    if not names:
        sys.exit(f'error: no stuffthingmaps PNGs in {args.src}')
    for i, name in enumerate(names):
        src = os.path.join(args.src, name)
        labels = np.array(Image.open(src))
        try:
            out = coco_object_labels(labels)
        except ValueError as e:
            sys.exit(f'error: {src}: {e}')
        write_label_png(os.path.join(args.dst, name[:-4] + '_instanceTrainIds.png'), out)
        if (i + 1) % 1000 == 0:
            print(f'{i + 1}/{len(names)}')
    print(f'wrote {len(names)} label maps to {args.dst}')


if __name__ == '__main__':
    main()
