"""Write the OV-COCO annotation files (48 base + 17 novel classes) and, optionally, their class embeddings.

    python tools/prepare_ov_coco.py --coco data/coco
    python tools/prepare_ov_coco.py --coco data/coco --model EVA02-B-16 \\
        --pretrained checkpoints/EVA02_CLIP_B_psz16_s8B.pt          # + data/embeddings/ov-coco_eva02-b16.pt
    python tools/prepare_ov_coco.py --skip-json --model EVA02-L-14-336 --pretrained checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt

Reads data/coco/annotations/instances_{train,val}2017.json; writes data/coco/zero-shot/
instances_train2017_seen_2_65_cat.json (the 65 categories, base-class boxes only, images without one dropped)
and instances_val2017_all_2.json (the boxes of all 65 classes; images without any dropped), the names the
configs read (the published split files of the same names work as well). Categories carry 'split': base/novel.
"""
import argparse
import os
import sys

from clipself.det.prepare import load_json, model_tag, ov_split, save_json, summary, write_class_embeddings
from clipself.models.vocabulary import load_vocabulary

TRAIN_OUT = 'instances_train2017_seen_2_65_cat.json'
VAL_OUT = 'instances_val2017_all_2.json'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--coco', default='data/coco', help='COCO root with annotations/instances_{train,val}2017.json')
    p.add_argument('--out-dir', help='where the jsons go (default: COCO/zero-shot)')
    p.add_argument('--splits', nargs='+', default=['train', 'val'], choices=['train', 'val'])
    p.add_argument('--skip-json', action='store_true', help='only write embeddings')
    p.add_argument('--model', help='CLIP for the class embeddings, e.g. EVA02-B-16 (none: no embeddings)')
    p.add_argument('--pretrained', help='its checkpoint file')
    p.add_argument('--embeddings', help='output .pt (default: data/embeddings/ov-coco_<model>.pt)')
    p.add_argument('--device', default='cpu')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    vocab = load_vocabulary('ov-coco')
    novel = [vocab.names[i] for i in vocab.where(split='novel')]
    out_dir = args.out_dir or os.path.join(args.coco, 'zero-shot')
    for split in ([] if args.skip_json else args.splits):
        src = os.path.join(args.coco, 'annotations', f'instances_{split}2017.json')
        if not os.path.isfile(src):
            sys.exit(f'error: {src} not found (download COCO 2017 annotations into {args.coco}/annotations)')
        print(f'reading {src}')
        data = load_json(src)
        out = ov_split(data, classes=vocab.names, novel=novel, train=split == 'train')
        dst = os.path.join(out_dir, TRAIN_OUT if split == 'train' else VAL_OUT)
        save_json(out, dst)
        print(f'wrote {dst}: {summary(out)}; {out["ov_split"]}')
    if args.model:
        dst = args.embeddings or os.path.join('data', 'embeddings', f'ov-coco_{model_tag(args.model)}.pt')
        write_class_embeddings(dst, model_name=args.model, pretrained=args.pretrained, class_names=vocab.names,
                               prompt_names=vocab.display_names, device=args.device)
        print(f'wrote {dst}: {len(vocab)} class embeddings ({args.model})')


if __name__ == '__main__':
    main()
