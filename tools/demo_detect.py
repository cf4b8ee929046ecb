"""Open-vocabulary detection on your images with a trained F-ViT: type the classes, get boxes drawn.

    python tools/demo_detect.py IMAGE --config configs/fvit/CONFIG.py --checkpoint work_dirs/CONFIG/epoch_3.pth \\
        --classes "cat,sofa,remote" [--score-thr 0.3] --out OUT.png
    python tools/demo_detect.py FOLDER ... --out OUT_FOLDER/          (one picture per image)

--classes: comma-separated names, or a .txt file with one name per line. The names are embedded on the fly with
the checkpoint's CLIP text tower (prompt ensemble); no embeddings file or CLIP file is needed.
"""
import argparse
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('images', help='an image file or a folder of images')
    p.add_argument('--config', required=True, help='the F-ViT config the checkpoint was trained with')
    p.add_argument('--checkpoint', required=True, help='an F-ViT training checkpoint (epoch_N.pth)')
    p.add_argument('--classes', required=True, help='"cat,sofa,remote" or a .txt file with one name per line')
    p.add_argument('--score-thr', type=float, default=0.3, help='draw detections with at least this score')
    p.add_argument('--out', required=True, help='output picture (one image) or folder')
    p.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1 ...')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from clipself.det.inference import run
    try:
        written = run(args.images, config=args.config, checkpoint=args.checkpoint, classes=args.classes,
                      out=args.out, score_thr=args.score_thr, device=args.device, report=print)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    print(f'wrote {len(written)} picture(s): {", ".join(written[:3])}{" ..." if len(written) > 3 else ""}')


if __name__ == '__main__':
    main()
