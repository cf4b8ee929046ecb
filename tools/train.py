"""Train any clipself stage from a config (CLIPSelf distillation, F-ViT, segmentation).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v ...]
    torchrun --nproc_per_node=N tools/train.py CONFIG --launcher pytorch      (tools/dist_train.sh)
"""
import argparse
import os

from mmengine.runner import Runner

from clipself.engine.amp import resolve_amp
from clipself.engine.launch import common_arguments, finish_launch, prepare_config
from clipself.engine.patches import apply_all


def parse_args():
    p = argparse.ArgumentParser(description='Train a clipself model')
    p.add_argument('config', help='config file')
    p.add_argument('--resume', nargs='?', type=str, const='auto',
                   help='resume from CKPT, or from the latest checkpoint in the work dir if none is given')
    p.add_argument('--amp', action='store_true',
                   help="automatic mixed precision on (bf16, or fp16 with a dynamic loss scale; GPU): the config's "
                        "amp=True. GPU configs default to amp='auto'; --cfg-options amp=False turns it off")
    common_arguments(p)
    args = p.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    apply_all()  # before the config's custom_imports and any checkpoint loading (clipself.engine.patches)
    cfg = prepare_config(args.config, work_dir=args.work_dir, cfg_options=args.cfg_options, launcher=args.launcher)
    if args.amp:
        cfg.amp = True
    resolve_amp(cfg)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    Runner.from_cfg(cfg).train()
    finish_launch()


if __name__ == '__main__':
    main()
