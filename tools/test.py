"""Evaluate a checkpoint with a config's test loop (region classification, F-ViT, segmentation).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description='Test a clipself model')
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', help='checkpoint: a training checkpoint of this config, or (for configs whose '
                   'model is a CLIP) any file build_clip loads')
    p.add_argument('--work-dir', help='where logs and results go (default: work_dirs/CONFIG_NAME)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys, e.g. a.b=1')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = p.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    from clipself.engine.checkpoints import route_test_checkpoint
    route_test_checkpoint(cfg, args.checkpoint)
    Runner.from_cfg(cfg).test()


if __name__ == '__main__':
    main()
