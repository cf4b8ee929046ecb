"""Draw a segmentation config's predictions beside the image and the ground truth (mmseg's SegLocalVisualizer).

    python tools/visualize_seg.py configs/seg/zeroshot_eva02-b16_voc21.py checkpoints/EVA02_CLIP_B_psz16_s8B.pt \\
        --out work_dirs/vis_voc21 [--num 8] [--cfg-options model.last_block=naclip]

CHECKPOINT is routed as by tools/test.py: a CLIP file -> model.clip.pretrained, a training checkpoint -> load_from,
'random' -> random CLIP weights. Each picture: image | ground truth over the image | prediction over the image.
"""
import argparse
import sys



def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint', help='a CLIP file, a training checkpoint of this config, or "random"')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--num', type=int, default=8, help='number of images')
    p.add_argument('--device', default='cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys, e.g. a.b=1')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from clipself.engine.checkpoints import route_test_checkpoint
    from clipself.engine.launch import prepare_config
    from clipself.seg.show import draw_predictions
    cfg = prepare_config(args.config, cfg_options=args.cfg_options)
    try:
        route_test_checkpoint(cfg, args.checkpoint)
        written = draw_predictions(cfg, args.out, num_images=args.num, device=args.device)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    print(f'wrote {len(written)} picture(s) to {args.out}')


if __name__ == '__main__':
    main()
