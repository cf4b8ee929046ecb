"""Open-vocabulary semantic segmentation of your images with a CLIP, training-free: type the classes, get a picture.

    python tools/demo_segment.py IMAGE_OR_FOLDER --model EVA02-B-16 --pretrained checkpoints/eva_vitb16_coco_clipself_patches.pt \\
        --classes "sky,road,car,tree,person" --out OUT_DIR [--last-block naclip] [--short-side 448]

--classes: comma-separated class names, or a .txt file with one class per line (synonyms comma-separated: the class
scores as its best synonym). Writes OUT_DIR/NAME.png per image: the segmentation over the image and a legend.
"""
import argparse
import sys



def parse_args(argv=None):
    from clipself.models.last_block import LAST_BLOCKS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('images', help='an image file or a folder of images')
    p.add_argument('--model', required=True, help='build_clip name: EVA02-B-16, EVA02-L-14-336, ViT-B-16, ...')
    p.add_argument('--pretrained', required=True, help='CLIP weights (any file build_clip loads), or "random"')
    p.add_argument('--classes', required=True, help='"sky,road,car" or a .txt file (one class per line)')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--last-block', default='maskclip', choices=LAST_BLOCKS)
    p.add_argument('--short-side', type=int, default=448, help='resize images to this short side first')
    p.add_argument('--crop', type=int, default=224, help='slide-window size in px (0: the whole image at once)')
    p.add_argument('--stride', type=int, default=112)
    p.add_argument('--logit-scale', type=float, default=40.0)
    p.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1 ...')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from clipself.seg.demo import run
    try:
        written = run(args.images, model_name=args.model,
                      pretrained=None if args.pretrained == 'random' else args.pretrained, classes=args.classes,
                      out=args.out, last_block=args.last_block, short_side=args.short_side, crop=args.crop,
                      stride=args.stride, logit_scale=args.logit_scale, device=args.device)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    print(f'wrote {len(written)} picture(s): {", ".join(written[:3])}{" ..." if len(written) > 3 else ""}')


if __name__ == '__main__':
    main()
