"""Evaluate a checkpoint with a config's test loop (region classification, F-ViT, segmentation).

    python tools/test.py CONFIG CHECKPOINT|random [--work-dir DIR] [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os

from mmengine.runner import Runner

from clipself.engine.launch import common_arguments, finish_launch, prepare_config
from clipself.engine.patches import apply_all


def parse_args():
    p = argparse.ArgumentParser(description='Test a clipself model')
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', help='checkpoint: a training checkpoint of this config, or (for configs whose '
                   'model is a CLIP) any file build_clip loads, or the word random (random CLIP weights)')
    common_arguments(p)
    args = p.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    apply_all()  # before the config's custom_imports and any checkpoint loading (clipself.engine.patches)
    cfg = prepare_config(args.config, work_dir=args.work_dir, cfg_options=args.cfg_options, launcher=args.launcher)
    from clipself.engine.checkpoints import route_test_checkpoint
    route_test_checkpoint(cfg, args.checkpoint)
    Runner.from_cfg(cfg).test()
    finish_launch()


if __name__ == '__main__':
    main()
