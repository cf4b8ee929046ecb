"""Write the OV-LVIS training json (LVIS v1 train without rare-class annotations) and class embeddings, also the
vocabularies of the transfer evaluations (COCO, Objects365 v1, VOC).

    python tools/prepare_ov_lvis.py --lvis data/lvis_v1
    python tools/prepare_ov_lvis.py --lvis data/lvis_v1 --model EVA02-B-16 \\
        --pretrained checkpoints/EVA02_CLIP_B_psz16_s8B.pt           # + data/embeddings/lvis_eva02-b16.pt
    python tools/prepare_ov_lvis.py --skip-json --transfer voc --model EVA02-L-14-336 --pretrained CLIP.pt
    python tools/prepare_ov_lvis.py --skip-json --transfer objects365v1 \\
        --transfer-ann data/Objects365v1/objects365_reorder_val.json --model EVA02-L-14-336 --pretrained CLIP.pt

Reads LVIS/annotations/lvis_v1_train.json, writes LVIS/annotations/lvis_v1_train_seen_1203_cat.json (all 1203
categories kept; the 337 rare ones lose their annotations). LVIS prompts keep the parenthetical qualifiers
('bolt (for a door)'), as the published F-ViT embeddings do.
"""
import argparse
import os
import sys

from clipself.det.prepare import drop_rare, load_json, model_tag, save_json, summary, write_class_embeddings
from clipself.models.vocabulary import display_name, load_vocabulary

OUT = 'lvis_v1_train_seen_1203_cat.json'
# mmdet's VOCDataset class names, with the words a prompt should use
VOC_PROMPTS = {'aeroplane': 'airplane', 'diningtable': 'dining table', 'motorbike': 'motorbike',
               'pottedplant': 'potted plant', 'tvmonitor': 'tv monitor'}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--lvis', default='data/lvis_v1', help='LVIS root with annotations/lvis_v1_train.json')
    p.add_argument('--skip-json', action='store_true', help='only write embeddings')
    p.add_argument('--model', help='CLIP for the class embeddings, e.g. EVA02-B-16 (none: no embeddings)')
    p.add_argument('--pretrained', help='its checkpoint file')
    p.add_argument('--embeddings', help='output .pt (default: data/embeddings/<vocabulary>_<model>.pt)')
    p.add_argument('--transfer', choices=['coco', 'objects365v1', 'voc'],
                   help='embed this transfer vocabulary instead of LVIS')
    p.add_argument('--transfer-ann', help='objects365v1: its val json (classes = categories in id order)')
    p.add_argument('--device', default='cpu')
    return p.parse_args(argv)


def transfer_vocabulary(name: str, ann=None):
    """(class names as the dataset reads them, prompt names)."""
    if name == 'coco':
        v = load_vocabulary('coco')
        return v.names, v.display_names
    if name == 'voc':
        from mmdet.datasets import VOCDataset
        names = list(VOCDataset.METAINFO['classes'])
        return names, [VOC_PROMPTS.get(n, n) for n in names]
    if not ann or not os.path.isfile(ann):
        sys.exit('error: --transfer objects365v1 needs --transfer-ann FILE (its val json)')
    cats = sorted(load_json(ann)['categories'], key=lambda c: c['id'])
    names = [c['name'] for c in cats]
    return names, [display_name(n) for n in names]


def main(argv=None):
    args = parse_args(argv)
    if not args.skip_json:
        src = os.path.join(args.lvis, 'annotations', 'lvis_v1_train.json')
        if not os.path.isfile(src):
            sys.exit(f'error: {src} not found (download the LVIS v1 annotations into {args.lvis}/annotations)')
        print(f'reading {src}')
        out = drop_rare(load_json(src))
        dst = os.path.join(args.lvis, 'annotations', OUT)
        save_json(out, dst)
        print(f'wrote {dst}: {summary(out)}; {out["ov_split"]}')
    if args.model:
        if args.transfer:
            names, prompts = transfer_vocabulary(args.transfer, args.transfer_ann)
            vocab_name = args.transfer
        else:
            vocab = load_vocabulary('lvis')
            names, prompts = vocab.names, [display_name(n, keep_parenthetical=True) for n in vocab.names]
            vocab_name = 'lvis'
        dst = args.embeddings or os.path.join('data', 'embeddings', f'{vocab_name}_{model_tag(args.model)}.pt')
        write_class_embeddings(dst, model_name=args.model, pretrained=args.pretrained, class_names=names,
                               prompt_names=prompts, device=args.device)
        print(f'wrote {dst}: {len(names)} class embeddings ({args.model})')


if __name__ == '__main__':
    main()
