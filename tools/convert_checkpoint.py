"""Convert a CLIP checkpoint in any supported format into clipself's safetensors (or back to EVA-CLIP's layout).

    python tools/convert_checkpoint.py SRC DST.safetensors --model EVA02-B-16
    python tools/convert_checkpoint.py SRC.safetensors DST.pt --to eva_clip   # for the original CLIPSelf/F-ViT code

SRC may be an open_clip / timm state dict, an original EVA-CLIP file, a released CLIPSelf checkpoint, an
OpenAI CLIP file (JIT or state dict) or one of our exports. The model name is read from our exports.
"""
import argparse
import logging
import os
import sys

import torch

from clipself.fileio import atomic_path
from clipself.models import build_clip, read_checkpoint, save_safetensors, to_eva_clip


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='input checkpoint')
    p.add_argument('dst', help='output file (.safetensors for --to clipself, .pt for --to eva_clip)')
    p.add_argument('--model', help='open_clip model name (e.g. EVA02-B-16); read from SRC if it is our export')
    p.add_argument('--to', choices=['clipself', 'eva_clip'], default='clipself', help='output layout')
    return p.parse_args(argv)


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    args = parse_args(argv)
    _, fmt, meta = read_checkpoint(args.src)
    model_name = args.model or meta.get('model_name')
    if not model_name:
        sys.exit(f'{args.src} is a {fmt} checkpoint: pass --model NAME (e.g. EVA02-B-16, ViT-B-16)')
    model = build_clip(model_name, pretrained=args.src)
    print(model.load_report)
    if args.to == 'clipself':
        save_safetensors(model.clip, args.dst, model_name=model.model_name,
                         extra={'source': os.path.basename(args.src), 'source_format': fmt})
    else:
        sd = to_eva_clip(model.clip.state_dict())
        with atomic_path(args.dst) as tmp:
            torch.save(sd, tmp)
    print(f'wrote {args.dst} ({args.to}, model {model.model_name})')


if __name__ == '__main__':
    main()
