"""Embed a vocabulary's class names with a CLIP text tower (prompt-template ensemble) into a .pt file.

    python tools/gen_text_embeddings.py --model EVA02-B-16 --pretrained checkpoints/EVA02_CLIP_B_psz16_s8B.pt \\
        --classes lvis --out data/embeddings/lvis_vild_eva02-b16.pt
    python tools/gen_text_embeddings.py --model ViT-Tiny-8 --classes my_classes.txt --out /tmp/x.pt --templates single

--classes: coco (80), coco-panoptic (133), ov-coco (65), lvis (1203), a .txt file with one class name per
line, or a COCO-style .json whose categories (in id order) are the classes: e.g. the noun file of the
RegionCLIP-style baseline from its pseudo-labelled boxes (docs/regionclip.md):

    python tools/gen_text_embeddings.py --model EVA02-B-16 --pretrained checkpoints/EVA02_CLIP_B_psz16_s8B.pt \\
        --classes data/coco/coco_pseudo_4764.json --out data/embeddings/coco_pseudo_4764_vild_eva02-b16.pt

Prompts use the display names (e.g. LVIS 'bolt_(for_a_door)' -> 'bolt'); the file stores the canonical
names. Read the result with clipself.models.text.load_text_embeddings.
"""
import argparse
import sys
import time

from clipself.models import build_clip
from clipself.models.text import TEMPLATE_SETS, build_text_embeddings, save_text_embeddings
from clipself.models.vocabulary import list_vocabularies, load_vocabulary


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', required=True, help='open_clip model name, e.g. EVA02-B-16, ViT-B-16, ViT-Tiny-8')
    p.add_argument('--pretrained', help='local checkpoint file (default: random weights, for tests only)')
    p.add_argument('--tokenizer', default=None,
                   help='folder of a Hugging Face tokenizer (SigLIP, SigLIP2; default: the checkpoint\'s folder when it '
                        'holds one; docs/siglip.md)')
    p.add_argument('--classes', required=True, help=f'{", ".join(list_vocabularies())}, FILE.txt or a COCO-style FILE.json')
    p.add_argument('--out', required=True, help='output .pt file')
    p.add_argument('--templates', default='vild', choices=sorted(TEMPLATE_SETS),
                   help='vild: 63-prompt ensemble (default); single: "a photo of a {}."')
    p.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1, ...')
    p.add_argument('--batch-size', type=int, default=256, help='prompts per text-tower forward')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        vocab = load_vocabulary(args.classes)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')
    print(f'vocabulary {vocab.name}: {len(vocab)} classes')
    model = build_clip(args.model, pretrained=args.pretrained, device=args.device, tokenizer=args.tokenizer)
    if args.pretrained is None:
        print(f'warning: {args.model} has random weights (no --pretrained): the embeddings are meaningless')
    n_prompts = len(vocab) * len(TEMPLATE_SETS[args.templates])
    print(f'encoding {n_prompts} prompts ({args.templates} templates) with {model.model_name} on {args.device}')
    start = time.time()
    shown = [0]

    def progress(done, total):
        if done == total or done - shown[0] >= total / 10:
            shown[0] = done
            print(f'  {done}/{total} prompts ({time.time() - start:.1f} s)', flush=True)

    emb = build_text_embeddings(model, vocab.display_names, templates=args.templates,
                                batch_size=args.batch_size, progress=progress)
    save_text_embeddings(args.out, vocab.names, emb, model_name=model.model_name, templates=args.templates)
    print(f'wrote {args.out}: {emb.shape[0]} x {emb.shape[1]} embeddings ({time.time() - start:.1f} s)')


if __name__ == '__main__':
    main()
