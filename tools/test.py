"""Evaluate a checkpoint with a config's test loop (region classification, F-ViT, segmentation).

    python tools/test.py CONFIG CHECKPOINT|random [--work-dir DIR] [--out RESULTS.pkl] [--show-dir DIR]
                         [--cfg-options k=v ...] [--launcher pytorch]
    tools/dist_test.sh CONFIG CHECKPOINT NGPUS [args]          (torchrun; tools/slurm_test.sh on SLURM)
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
    p.add_argument('--out', help='also dump the raw predictions to this pickle file (mmengine\'s DumpResults; '
                   'for mmdet configs mmdet\'s DumpDetResults: one dict per image, masks as RLE, no ground truth)')
    p.add_argument('--show-dir', help='draw the predictions of every test image with the config\'s visualization '
                   'hook (F-ViT: DetVisualizationHook); as in mmdet, a relative DIR lands in '
                   'WORK_DIR/TIMESTAMP/DIR, an absolute one is used as is')
    common_arguments(p)
    args = p.parse_args()
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        p.error(f'--out {args.out}: the dump file must end in .pkl or .pickle')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def draw_predictions(cfg, show_dir: str) -> None:
    """Switch the config's visualization hook on for the test loop, writing pictures to ``show_dir`` (what
    mmdet's ``trigger_visualization_hook`` does for ``--show-dir``)."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise SystemExit(f'--show-dir: {cfg.filename} has no default_hooks.visualization to draw with '
                         "(the F-ViT configs use dict(type='DetVisualizationHook'))")
    hook.update(draw=True, test_out_dir=show_dir)


def dump_predictions(runner, out: str) -> None:
    """Append a metric that pickles the raw predictions to ``out`` once the test loop ends (mmdet's ``--out``)."""
    if runner.cfg.get('default_scope') == 'mmdet':
        from mmdet.evaluation import DumpDetResults as Dump
    else:
        from mmengine.evaluator import DumpResults as Dump
    runner.test_evaluator.metrics.append(Dump(out_file_path=out))


def main():
    args = parse_args()
    apply_all()  # before the config's custom_imports and any checkpoint loading (clipself.engine.patches)
    cfg = prepare_config(args.config, work_dir=args.work_dir, cfg_options=args.cfg_options, launcher=args.launcher)
    from clipself.engine.checkpoints import route_test_checkpoint
    route_test_checkpoint(cfg, args.checkpoint)
    if args.show_dir:
        draw_predictions(cfg, args.show_dir)
    runner = Runner.from_cfg(cfg)
    if args.out:
        dump_predictions(runner, args.out)
    runner.test()
    finish_launch()


if __name__ == '__main__':
    main()
