"""The demo's stages, each through the real configs and runner: zero-shot region classification, a CLIPSelf
run and its exports, an F-ViT run. Module-level functions: the scheduler runs them in spawned processes, so
they return their figures (the caller reports them) instead of writing to the console."""
import glob
import json
import os
import shutil
import time
from typing import Dict, List, Optional, Tuple

import torch

from .settings import CROP, MODEL, ROOT, SCENE, VARIANTS


def _config(name: str):
    """``configs/clipself/{name}`` as the tools load it (:func:`~clipself.engine.launch.prepare_config`: no pinned
    memory without CUDA)."""
    from ..engine.launch import prepare_config
    return prepare_config(os.path.join(ROOT, 'configs', 'clipself', name))


def region_classification(clip: dict, val_root: str, work_dir: str, tag: str) -> Dict[str, float]:
    """The zero-shot region-classification protocol through the real config and ``Runner.test``: its metrics
    (``rois.thing.macc1`` ...) and per-class top-1 of rois and crops (``rois.class.star.top1`` ...), in %."""
    from mmengine.runner import Runner
    cfg = _config('region-cls_tiny_synthetic.py')
    cfg.model.clip = clip
    cfg.model.cache_dir = os.path.join(work_dir, 'text_cache')
    ds = cfg.test_dataloader.dataset
    ds.update(data_root=val_root + '/', dense_size=SCENE, crop_size=CROP)
    ds.pop('generate', None)
    cfg.work_dir = os.path.join(work_dir, 'eval_' + tag)
    shutil.rmtree(cfg.work_dir, ignore_errors=True)
    cfg.experiment_name = f'demo_eval_{tag}'
    cfg.default_hooks.logger.interval = 1000
    cfg.log_level = 'WARNING'
    metrics = Runner.from_cfg(cfg).test()
    out = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    with open(os.path.join(cfg.work_dir, 'region_classification.json')) as f:  # the tool's per-class figures
        per_class = json.load(f)['per_class']
    out.update({f'{kind}.class.{name}.top1': float(v['top1'])
                for kind in ('rois', 'crops') for name, v in per_class[kind].items()})
    return out


def train_on_schedule(cfg, size: dict, seed: int, work_dir: str, name: str) -> None:
    """Train the distillation config ``cfg`` with the demo's schedule (``size``: batch, epochs, lr; warm-up then
    cosine, one checkpoint at the end, no validation: the runs are evaluated afterwards, on student and export)
    into ``{work_dir}/distill_{name}``, started clean (loss curves read every log in it)."""
    from mmengine.runner import Runner
    cfg.train_dataloader.batch_size = size['batch']
    epochs = size['epochs']
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.optim_wrapper.optimizer.lr = size['lr']
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
        dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=0, end=epochs, T_max=epochs,
             convert_to_iter_based=True)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs, max_keep_ckpts=1,
                                        backend_args=dict(backend='atomic_local'))
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10)
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = os.path.join(work_dir, 'distill_' + name)
    cfg.experiment_name = f'demo_distill_{name}'
    cfg.log_level = 'WARNING'
    shutil.rmtree(cfg.work_dir, ignore_errors=True)
    Runner.from_cfg(cfg).train()


def distill(variant: str, settings: dict, clip_path: str, train_root: str, work_dir: str, size: dict,
            seed: int, model: str = MODEL) -> str:
    """One CLIPSelf run (``configs/clipself/clipself_tiny_synthetic.py`` with the demo CLIP, a ``model`` file);
    returns its work dir."""
    cfg = _config('clipself_tiny_synthetic.py')
    cfg.model.clip = dict(model_name=model, pretrained=clip_path)
    cfg.model.loss_image_weight = settings['loss_image_weight']
    cfg.model.loss_image_crops = settings.get('loss_image_crops')
    cfg.model.cache_teacher = True  # 320 scenes x ~23 boxes: each proposal's teacher embedding computed once
    ds = cfg.train_dataloader.dataset
    ds.update(data_root=train_root + '/', sampler=settings['sampler'], student_size=SCENE, crop_size=CROP, seed=seed)
    ds.pop('generate', None)
    train_on_schedule(cfg, size, seed, work_dir, variant)
    return cfg.work_dir


def train_fvit(clip_path: str, data_root: str, generate: dict, work_dir: str, epochs: int, seed: int, *,
               tag: str, config: Optional[str] = None, cfg_options: Optional[dict] = None) -> Dict[str, float]:
    """Train F-ViT (``config``, default ``configs/fvit/fvit_demo_synthetic.py``) on the base classes of the demo's
    scenes (``data_root``, written by ``ensure_synthetic_ov_coco(data_root, **generate)``) with ``clip_path`` frozen
    as its backbone, then evaluate box AP50 on the held-out scenes: ``{'novel_ap50': ..., 'base_ap50': ...,
    'class.star.ap50': ...}`` (%). ``cfg_options``: further config overrides (e.g. the backbone's
    ``tower_options`` of a CLIP distilled with a tower variant)."""
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from ..engine.launch import prepare_config
    register_all_modules(init_default_scope=False)
    opts = {
        'model.backbone.pretrained': clip_path,
        'train_dataloader.dataset.data_root': data_root, 'train_dataloader.dataset.generate': generate,
        'val_dataloader.dataset.data_root': data_root, 'val_dataloader.dataset.generate': generate,
        'test_dataloader.dataset.data_root': data_root, 'test_dataloader.dataset.generate': generate,
        'val_evaluator.ann_file': os.path.join(data_root, 'val', 'annotations', 'ov_val.json'),
        'test_evaluator.ann_file': os.path.join(data_root, 'val', 'annotations', 'ov_val.json'),
        'train_cfg.max_epochs': epochs, 'train_cfg.val_interval': epochs + 1,  # evaluated once, below
        'default_hooks.checkpoint': dict(type='CheckpointHook', interval=epochs, max_keep_ckpts=1,
                                         backend_args=dict(backend='atomic_local')),
        'default_hooks.logger.interval': 20, 'randomness': dict(seed=seed), 'log_level': 'WARNING',
        'experiment_name': f'demo_fvit_{tag}',
        'val_evaluator.outfile_prefix': os.path.join(work_dir, f'fvit_{tag}', 'val'),  # per-class AP50
        **(cfg_options or {}),
    }
    cfg = prepare_config(config or os.path.join(ROOT, 'configs', 'fvit', 'fvit_demo_synthetic.py'),
                         work_dir=os.path.join(work_dir, f'fvit_{tag}'), cfg_options=opts)
    shutil.rmtree(cfg.work_dir, ignore_errors=True)
    with DefaultScope.overwrite_default_scope('mmdet'):
        runner = Runner.from_cfg(cfg)
        runner.train()
        metrics = runner.val()
    out = {k: 100 * float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    with open(os.path.join(cfg.work_dir, 'val.metrics.json')) as f:  # None: no ground truth of the class
        per_class = json.load(f)['per_class_ap50']
    out.update({f'class.{name}.ap50': None if v is None else 100 * float(v) for name, v in per_class.items()})
    return out


def fvit_tower_config(out_dir: str, model: str, pixel_norm) -> str:
    """``configs/fvit/fvit_demo_synthetic.py`` with another tower (``model``, its ``(mean, std)`` on the 0-255 scale),
    written to ``{out_dir}/fvit_demo_synthetic_{model}.py``: the config the demo's
    F-ViT runs train and the detection pictures rebuild the detector from."""
    mean, std = pixel_norm
    path = os.path.join(out_dir, f'fvit_demo_synthetic_{model}.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = [{os.path.join(ROOT, 'configs', 'fvit', 'fvit_demo_synthetic.py')!r}]\n"
                f"model = dict(backbone=dict(model_name={model!r}), data_preprocessor=dict(mean={list(mean)!r}, "
                f"std={list(std)!r}))\n")
    return path


def distill_and_evaluate(variant: str, clip_path: str, train_root: str, val_root: str, out_dir: str, size: dict,
                         seed: int, zero_shot: tuple, with_ensemble: bool, model: str = MODEL) -> tuple:
    """One distillation variant, its exports evaluated (region classification, image zero-shot):
    ``(figures keyed '{variant}.rois.thing.macc1' ..., loss curve [(step, loss)])``."""
    from ..models import build_clip
    from .pretrain import zero_shot_accuracy
    t1 = time.time()
    run_dir = distill(variant, VARIANTS[variant], clip_path, train_root, out_dir, size, seed, model)
    res = {f'seconds.distill_{variant}': round(time.time() - t1)}
    files = export_student(run_dir, size['epochs'], model)
    if not with_ensemble:
        files.pop('ensemble')
    images, labels, classes, text = zero_shot
    for kind, path in files.items():
        prefix = variant if kind == 'student' else f'{variant}_ensemble'
        metrics = region_classification(dict(model_name=model, pretrained=path), val_root, out_dir, prefix)
        res.update({f'{prefix}.{k}': v for k, v in metrics.items()})
        res[f'{prefix}.clip_zeroshot_top1'] = zero_shot_accuracy(build_clip(model, pretrained=path), images, labels,
                                                                 classes, text=text)
    return res, loss_curve(run_dir)


def train_and_evaluate_fvit(tag: str, *args, config: Optional[str] = None) -> Dict[str, float]:
    """:func:`train_fvit` timed: ``{'fvit.novel_ap50.{tag}': ..., 'seconds.fvit_{tag}': ...}``."""
    t1 = time.time()
    metrics = train_fvit(*args, tag=tag, config=config)
    return {**{f'fvit.{k}.{tag}': v for k, v in metrics.items()}, f'seconds.fvit_{tag}': round(time.time() - t1)}


def export_student(run_dir: str, epochs: int, model: str = MODEL) -> Dict[str, str]:
    """``{'student': alpha 1 export, 'ensemble': the run's own export (alpha 0.7)}``."""
    from ..distill import export_clip
    from ..engine.patches import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()  # the runner's checkpoint, loaded with weights_only=True
    ckpt = torch.load(os.path.join(run_dir, f'epoch_{epochs}.pth'), map_location='cpu', weights_only=True)
    student = os.path.join(run_dir, 'exported', 'student.safetensors')
    export_clip(ckpt['state_dict'], student, model_name=model, alpha=1.0)
    return dict(student=student, ensemble=os.path.join(run_dir, 'exported', f'epoch_{epochs}.safetensors'))


def loss_curve(run_dir: str) -> List[Tuple[int, float]]:
    """``[(iteration, loss_cosine)]`` of a run, from its logged scalars (comparable across variants)."""
    rows = []
    for f in sorted(glob.glob(os.path.join(run_dir, '*', 'vis_data', 'scalars.json'))):
        rows += [json.loads(line) for line in open(f)]
    return [(r['step'], r['loss_cosine']) for r in rows if 'loss_cosine' in r]  # comparable across variants


def export_paths(out_dir: str) -> Dict[str, str]:
    """Where each variant's student export (alpha 1) is written."""
    return {v: os.path.join(out_dir, f'distill_{v}', 'exported', 'student.safetensors') for v in VARIANTS}


def describe_distill(variant: str, res: dict) -> str:
    """The console line of a finished distillation variant."""
    ens = res.get(f'{variant}_ensemble.rois.thing.macc1')
    return (f'[demo] {variant}: rois {res[f"{variant}.rois.thing.macc1"]:.1f}'
            + ('' if ens is None else f' (ensemble {ens:.1f})') + ', image zero-shot '
            f'{res[f"{variant}.clip_zeroshot_top1"]:.3f} ({res[f"seconds.distill_{variant}"]} s of training)')


def describe_fvit(tag: str, res: dict) -> str:
    """The console line of a finished F-ViT run."""
    return (f'[demo] F-ViT with the {tag} CLIP: novel AP50 {res.get(f"fvit.novel_ap50.{tag}", float("nan")):.1f}, '
            f'base AP50 {res.get(f"fvit.base_ap50.{tag}", float("nan")):.1f} ({res[f"seconds.fvit_{tag}"]} s)')
