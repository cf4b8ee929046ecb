"""Pictures of a CLIP's dense features: colours of the feature map (PCA or k-means) and, per text query, the
cosine similarity of every patch to the query, over the image. Two checkpoints -> two rows (e.g. original vs
CLIPSelf-distilled).

    python tools/visualize_dense.py IMAGE_OR_FOLDER --model EVA02-B-16 \\
        --pretrained checkpoints/EVA02_CLIP_B_psz16_s8B.pt work_dirs/clipself/exported/epoch_6.safetensors \\
        --queries "cat,sofa,remote control" --out work_dirs/dense_pictures [--size 1024] [--colour kmeans]

Writes OUT/<image name>_dense.png per image. Without --pretrained the CLIP has random weights.
"""
import argparse
import os
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('image', help='an image file or a folder of images')
    p.add_argument('--model', required=True, help='open_clip model name: EVA02-B-16, ViT-B-16, EVA02-Tiny-8, ...')
    p.add_argument('--pretrained', nargs='*', default=[], help='one or two checkpoints (one row each)')
    p.add_argument('--queries', default='', help='comma-separated text queries, e.g. "cat,sofa"')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--size', type=int, default=None,
                   help='dense input size (longest side); default: 1024 for patch 16, 896 for patch 14, else 4x the '
                        'pre-training size')
    p.add_argument('--colour', choices=('pca', 'kmeans'), default='pca')
    p.add_argument('--clusters', type=int, default=8, help='k for --colour kmeans')
    p.add_argument('--templates', default='vild', choices=('vild', 'single'))
    p.add_argument('--device', default='cpu')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from PIL import Image

    from clipself.models import build_clip
    from clipself.models.text import build_text_embeddings
    from clipself.data.image_files import list_images
    from clipself.visualization import dense_views, save_dense_figure
    try:
        images = list_images(args.image)
    except FileNotFoundError as e:
        sys.exit(f'error: {e}')
    if len(args.pretrained) > 2:
        sys.exit('error: --pretrained takes one or two checkpoints')
    queries = [q.strip() for q in args.queries.split(',') if q.strip()]
    models = []
    for ckpt in args.pretrained or [None]:
        model = build_clip(args.model, pretrained=ckpt, device=args.device)
        text = build_text_embeddings(model, queries, templates=args.templates) if queries else None
        models.append((os.path.basename(ckpt) if ckpt else f'{args.model} (random weights)', model, text))
    first = models[0][1]
    size = args.size or {16: 1024, 14: 896}.get(first.patch_size[0], 4 * first.image_size[0])
    os.makedirs(args.out, exist_ok=True)
    for path in images:
        with Image.open(path) as im:
            image = im.convert('RGB')
        rows = [(label, dense_views(model, image, size=size, text_embeddings=text, colour=args.colour,
                                    clusters=args.clusters)) for label, model, text in models]
        out = os.path.join(args.out, os.path.splitext(os.path.basename(path))[0] + '_dense.png')
        save_dense_figure(out, image, rows, queries, colour=args.colour)
        print(f'wrote {out}')


if __name__ == '__main__':
    main()
