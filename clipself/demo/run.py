"""The embedded default run behind ``make demo``: CLIPSelf end to end on a generated world, on a CPU, no downloads.

1. Generates scenes of coloured shapes on textured backgrounds (``clipself.data.synthetic_coco``): a training
   set (COCO json + honest proposals: jittered object boxes plus false ones) and a held-out panoptic set.
2. Loads the shipped tiny CLIP (``assets/demo_clip_eva02-small-8.safetensors``, pre-trained by
   ``tools/pretrain_tiny_clip.py`` on captioned single-shape images) or retrains it, and measures its zero-shot
   image classification.
3. Evaluates zero-shot region classification (the real metric: rois / crops / maskpool, thing / stuff).
4. Distils it with the real configs and runner, three times: region proposals (the default), image patches, and
   proposals with the image-level preservation term (in parallel processes when there are cores for them: tiny
   models use two cores better as two single-thread runs); evaluates each student and its exported ensemble.
5. Trains F-ViT (``configs/fvit/fvit_demo_synthetic.py``) on the base shapes with the original and with the
   distilled CLIP frozen as its backbone; box AP50 on novel (``star``, ``ring``) and base shapes.
6. Writes ``report.md``, ``results.json`` and pictures (loss curves, dense features before/after, detections).
"""
import json
import os
import platform
import shutil
import time
from typing import Callable, Dict, Optional

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_CLIP = os.path.join(ROOT, 'assets', 'demo_clip_eva02-small-8.safetensors')
MODEL = 'EVA02-Small-8'
SCENE = 192           # scenes are 192 x 192 px: the student sees a 24 x 24 token grid
CROP = 64             # the CLIP's pre-training size
NOVEL = ('star', 'ring')
SIZES = {  # full run (make demo) and the fast variant of the test suite
    'full': dict(train_images=320, val_images=160, zero_shot_images=400, epochs=6, batch=2, lr=2e-4,
                 fvit_epochs=2),
    'fast': dict(train_images=64, val_images=24, zero_shot_images=64, epochs=4, batch=2, lr=2e-4,
                 fvit_epochs=1),
}
ENSEMBLE_ROWS = ('after', 'after_preserve')  # variants whose exported ensemble (alpha 0.7) is evaluated too
VARIANTS = {  # result prefix -> distillation settings
    'after': dict(sampler='proposals', loss_image_weight=0.0),
    'after_patches': dict(sampler='grid', loss_image_weight=0.0),
    # the image term on the whole image and 4 of its 20 crops: on all of them it doubled the run's time
    'after_preserve': dict(sampler='proposals', loss_image_weight=1.0, loss_image_crops=4),
}


def _config(name: str):
    from mmengine.config import Config
    return Config.fromfile(os.path.join(ROOT, 'configs', 'clipself', name))


def _region_eval(clip: dict, val_root: str, work_dir: str, tag: str) -> Dict[str, float]:
    """The zero-shot region-classification protocol through the real config and ``Runner.test``."""
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
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}


def _distill(variant: str, settings: dict, clip_path: str, train_root: str, work_dir: str, size: dict,
             seed: int) -> str:
    """One CLIPSelf run (``configs/clipself/clipself_tiny_synthetic.py`` with the demo CLIP); returns its work dir."""
    from mmengine.runner import Runner
    cfg = _config('clipself_tiny_synthetic.py')
    cfg.model.clip = dict(model_name=MODEL, pretrained=clip_path)
    cfg.model.loss_image_weight = settings['loss_image_weight']
    cfg.model.loss_image_crops = settings.get('loss_image_crops')
    cfg.model.cache_teacher = True  # 320 scenes x ~23 boxes: each proposal's teacher embedding computed once
    ds = cfg.train_dataloader.dataset
    ds.update(data_root=train_root + '/', sampler=settings['sampler'], student_size=SCENE, crop_size=CROP, seed=seed)
    ds.pop('generate', None)
    cfg.train_dataloader.batch_size = size['batch']
    epochs = size['epochs']
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None  # evaluated afterwards, on student and export
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
    cfg.work_dir = os.path.join(work_dir, 'distill_' + variant)
    cfg.experiment_name = f'demo_distill_{variant}'
    cfg.log_level = 'WARNING'
    shutil.rmtree(cfg.work_dir, ignore_errors=True)  # a rerun starts clean (loss curves read every log in it)
    Runner.from_cfg(cfg).train()
    return cfg.work_dir


def _fvit(clip_path: str, data_root: str, generate: dict, work_dir: str, epochs: int, seed: int, *,
          tag: str) -> Dict[str, float]:
    """Train F-ViT (``configs/fvit/fvit_demo_synthetic.py``) on the base classes of the demo's scenes
    (``data_root``, written by ``ensure_synthetic_ov_coco(data_root, **generate)``) with ``clip_path`` frozen as
    its backbone, then evaluate box AP50 on the held-out scenes: ``{'novel_ap50': ..., 'base_ap50': ...}`` (%)."""
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from .engine.launch import prepare_config
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
    }
    cfg = prepare_config(os.path.join(ROOT, 'configs', 'fvit', 'fvit_demo_synthetic.py'),
                         work_dir=os.path.join(work_dir, f'fvit_{tag}'), cfg_options=opts)
    shutil.rmtree(cfg.work_dir, ignore_errors=True)
    with DefaultScope.overwrite_default_scope('mmdet'):
        runner = Runner.from_cfg(cfg)
        runner.train()
        metrics = runner.val()
    return {k: 100 * float(v) for k, v in metrics.items() if isinstance(v, (int, float))}


def _workers(n_tasks: int) -> tuple:
    """``(processes, threads each)`` for ``n_tasks`` independent runs on this machine's cores. The demo's tiny
    models use cores better as parallel single-thread runs: side by side on 2 cores, two 1-thread distillation
    loops did 1.4x the iterations of one 2-thread loop (the whole demo's gain is smaller: its stages differ)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)
    procs = max(1, min(n_tasks, cores))
    return procs, max(1, cores // procs)


def _threaded(threads: int, fn: Callable, *args):
    torch.set_num_threads(threads)
    return fn(*args)


def _in_parallel(tasks: Dict[str, tuple], log: Callable[[str], None],
                 needs: Optional[Dict[str, str]] = None) -> Dict[str, object]:
    """Run ``{name: (fn, *args)}`` (module-level ``fn``) in parallel processes, each started as a process frees
    up, in the listed order (list the longest first) except that a task named in ``needs`` waits until the task
    it needs has finished. Results by name. Inline, in the listed order, when the machine has one core. A failed
    run raises its error here."""
    needs = needs or {}
    for name, first in needs.items():
        if name not in tasks or first not in tasks or list(tasks).index(first) > list(tasks).index(name):
            raise ValueError(f'{name!r} needs {first!r}: both must be tasks, {first!r} listed first')
    procs, threads = _workers(len(tasks))
    if procs == 1:
        return {name: fn(*args) for name, (fn, *args) in tasks.items()}
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    log(f'[demo] {len(tasks)} runs in {procs} processes of {threads} thread(s): {", ".join(tasks)}'
        + ''.join(f'; {n} waits for {f}' for n, f in needs.items()))
    pending, running, results = list(tasks), {}, {}
    with ProcessPoolExecutor(procs, mp_context=mp.get_context('spawn')) as pool:
        while pending or running:
            for name in [n for n in pending if n not in needs or needs[n] in results]:
                if len(running) < procs:
                    fn, *args = tasks[name]
                    running[pool.submit(_threaded, threads, fn, *args)] = name
                    pending.remove(name)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                results[running.pop(future)] = future.result()
    return {name: results[name] for name in tasks}


def _distill_and_evaluate(variant: str, clip_path: str, train_root: str, val_root: str, out_dir: str, size: dict,
                          seed: int, zero_shot: tuple, with_ensemble: bool) -> tuple:
    """One distillation variant, its exports evaluated (region classification, image zero-shot):
    ``(figures keyed '{variant}.rois.thing.macc1' ..., loss curve [(step, loss)])``."""
    from .demo_pretrain import zero_shot_accuracy
    from .models import build_clip
    t1 = time.time()
    run_dir = _distill(variant, VARIANTS[variant], clip_path, train_root, out_dir, size, seed)
    res = {f'seconds.distill_{variant}': round(time.time() - t1)}
    files = _export_student(run_dir, size['epochs'])
    if not with_ensemble:
        files.pop('ensemble')
    images, labels, classes, text = zero_shot
    for kind, path in files.items():
        prefix = variant if kind == 'student' else f'{variant}_ensemble'
        metrics = _region_eval(dict(model_name=MODEL, pretrained=path), val_root, out_dir, prefix)
        res.update({f'{prefix}.{k}': v for k, v in metrics.items()})
        res[f'{prefix}.clip_zeroshot_top1'] = zero_shot_accuracy(build_clip(MODEL, pretrained=path), images, labels,
                                                                 classes, text=text)
    ens = res.get(f'{variant}_ensemble.rois.thing.macc1')
    print(f'[demo] {variant}: rois {res[f"{variant}.rois.thing.macc1"]:.1f}'
          + ('' if ens is None else f' (ensemble {ens:.1f})') + ', image zero-shot '
          f'{res[f"{variant}.clip_zeroshot_top1"]:.3f} ({res[f"seconds.distill_{variant}"]} s of training)', flush=True)
    return res, _losses(run_dir)


def _fvit_timed(tag: str, *args) -> Dict[str, float]:
    t1 = time.time()
    metrics = _fvit(*args, tag=tag)
    print(f'[demo] F-ViT with the {tag} CLIP: novel AP50 {metrics.get("novel_ap50", float("nan")):.1f}, '
          f'base AP50 {metrics.get("base_ap50", float("nan")):.1f} ({time.time() - t1:.0f} s)', flush=True)
    return {**{f'fvit.{k}.{tag}': v for k, v in metrics.items()}, f'seconds.fvit_{tag}': round(time.time() - t1)}


def _export_student(run_dir: str, epochs: int) -> Dict[str, str]:
    """``{'student': alpha 1 export, 'ensemble': the run's own export (alpha 0.7)}``."""
    from .distill import export_clip
    from .engine import checkpoints  # noqa: F401  (safe loading of mmengine checkpoints)
    ckpt = torch.load(os.path.join(run_dir, f'epoch_{epochs}.pth'), map_location='cpu', weights_only=True)
    student = os.path.join(run_dir, 'exported', 'student.safetensors')
    export_clip(ckpt['state_dict'], student, model_name=MODEL, alpha=1.0)
    return dict(student=student, ensemble=os.path.join(run_dir, 'exported', f'epoch_{epochs}.safetensors'))


def _losses(run_dir: str):
    import glob
    rows = []
    for f in sorted(glob.glob(os.path.join(run_dir, '*', 'vis_data', 'scalars.json'))):
        rows += [json.loads(line) for line in open(f)]
    return [(r['step'], r['loss_cosine']) for r in rows if 'loss_cosine' in r]  # comparable across variants


def run_demo(out_dir: str, *, seed: int = 0, fast: bool = False, retrain_clip: bool = False,
             clip: Optional[str] = None, log: Callable[[str], None] = print) -> Dict:
    """Run the demo; returns the figures written to ``results.json`` (keys as ``before.rois.thing.macc1``)."""
    from .data.synthetic import SHAPES
    from .det.datasets import ensure_synthetic_ov_coco
    from .demo_pretrain import (captioned_images, clip_record, pretrain_demo_clip, pretrain_tiny_clip,
                                zero_shot_accuracy)
    from .models import build_clip
    t0 = time.time()
    size = SIZES['fast' if fast else 'full']
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(seed)
    res: Dict = dict(seed=seed, variant='fast' if fast else 'full', model=MODEL, scene_px=SCENE, crop_px=CROP,
                     novel=list(NOVEL), **{k: v for k, v in size.items()})

    clip_path = clip or DEMO_CLIP
    if retrain_clip or not os.path.isfile(clip_path):
        # without the shipped file a short pre-training keeps the demo within its time (a weaker CLIP, reported)
        clip_path = os.path.join(out_dir, 'demo_clip.safetensors')
        if retrain_clip:
            log('[demo] pre-training the tiny CLIP with the shipped recipe (about 17 minutes on 2 cores)')
            pretrain_demo_clip(clip_path, seed=seed, log=log)
        else:
            log('[demo] pre-training the tiny CLIP (150 steps): no shipped file found')
            pretrain_tiny_clip(clip_path, steps=150, seed=seed, log=log)
    res['clip_weights'] = os.path.relpath(clip_path, ROOT) if clip_path.startswith(ROOT) else clip_path
    res['clip_pretraining'] = clip_record(clip_path)

    data = os.path.join(out_dir, 'data')
    train_root, val_root = os.path.join(data, 'train'), os.path.join(data, 'val')
    shutil.rmtree(data, ignore_errors=True)
    # one generated world for every stage: COCO instances + panoptic + proposals, and the OV jsons F-ViT reads
    generate = dict(num_images=size['train_images'], seed=seed, size=(SCENE, SCENE), novel=list(NOVEL),
                    val_images=size['val_images'])
    ensure_synthetic_ov_coco(data, **generate)
    log(f'[demo] generated {size["train_images"]} training and {size["val_images"]} held-out scenes '
        f'({time.time() - t0:.0f} s)')

    zs_images, zs_labels, _ = captioned_images(np.random.default_rng(seed + 7), size['zero_shot_images'])

    from .models.text import build_text_embeddings
    original = build_clip(MODEL, pretrained=clip_path)
    zs_text = build_text_embeddings(original, list(SHAPES))  # the text tower stays frozen
    zero_shot = (zs_images, zs_labels, SHAPES, zs_text)
    res['clip_zeroshot_top1'] = zero_shot_accuracy(original, zs_images, zs_labels, SHAPES, text=zs_text)
    log(f'[demo] CLIP zero-shot shape accuracy (image level): {res["clip_zeroshot_top1"]:.3f}')
    before = _region_eval(dict(model_name=MODEL, pretrained=clip_path), val_root, out_dir, 'before')
    res.update({f'before.{k}': v for k, v in before.items()})
    log(f'[demo] before distillation: rois {before["rois.thing.macc1"]:.1f} / crops {before["crops.thing.macc1"]:.1f}'
        f' / maskpool {before["maskpool.thing.macc1"]:.1f} (thing top-1) ({time.time() - t0:.0f} s)')

    # the distillation variants and the two F-ViT runs (original vs distilled backbone, trained on the base
    # classes), in parallel processes where there are cores for them; F-ViT on the distilled CLIP waits for it
    variants = ['after'] if fast else ['after', 'after_preserve', 'after_patches']
    clips = {'original': clip_path, 'distilled': _export_paths(out_dir)['after']}
    log(f'[demo] distilling: {", ".join(variants)} ({size["epochs"]} epochs of {size["train_images"]} scenes each);'
        f' F-ViT: {size["fvit_epochs"]} epoch(s) per backbone')
    tasks = {v: (_distill_and_evaluate, v, clip_path, train_root, val_root, out_dir, size, seed, zero_shot,
                 not fast and v in ENSEMBLE_ROWS) for v in variants}
    tasks.update({f'fvit_{tag}': (_fvit_timed, tag, clips[tag], data, generate, out_dir, size['fvit_epochs'], seed)
                  for tag in ('distilled', 'original')})  # the distilled one first, as soon as 'after' is done
    runs = _in_parallel(tasks, log, needs={'fvit_distilled': 'after'})
    curves = {}
    for variant in VARIANTS:
        if variant in runs:
            figures, curves[variant] = runs[variant]
            res.update(figures)
    for tag in clips:
        res.update(runs[f'fvit_{tag}'])
    procs, threads = _workers(len(tasks))
    log(f'[demo] distillation and F-ViT done ({time.time() - t0:.0f} s)')

    detectors = {tag: os.path.join(out_dir, f'fvit_{tag}', f'epoch_{size["fvit_epochs"]}.pth') for tag in clips}

    _save_pictures(out_dir, curves, clip_path, files_after=_export_paths(out_dir), val_root=val_root)
    _save_detections(out_dir, detectors, os.path.join(val_root, 'images'))
    res['seconds'] = round(time.time() - t0)
    res['machine'] = (f'{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; distillation and '
                      f'F-ViT runs in {procs} process(es) of {threads} thread(s)')
    with open(os.path.join(out_dir, 'results.json'), 'w') as f:
        json.dump(res, f, indent=2, sort_keys=True)
    _write_report(os.path.join(out_dir, 'report.md'), res)
    log(f'[demo] wrote {out_dir}/report.md, results.json and pictures in {res["seconds"]} s')
    return res


def _export_paths(out_dir: str) -> Dict[str, str]:
    return {v: os.path.join(out_dir, f'distill_{v}', 'exported', 'student.safetensors') for v in VARIANTS}


def _save_pictures(out_dir: str, curves: dict, clip_path: str, *, files_after: Dict[str, str], val_root: str):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from PIL import Image

    from .data.synthetic import SHAPES
    from .models import build_clip
    from .models.text import build_text_embeddings
    from .visualization import dense_views, save_dense_figure
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for variant, pts in curves.items():
        if pts:
            ax.plot(*zip(*pts), label=variant.replace('after', 'proposals').replace('proposals_patches', 'patches'))
    ax.set_xlabel('iteration')
    ax.set_ylabel('loss_cosine (1 - cos)')
    ax.legend(fontsize=8)
    ax.set_title('CLIPSelf distillation on the generated scenes', fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, 'loss_curves.png'), dpi=100)
    plt.close(fig)

    before = build_clip(MODEL, pretrained=clip_path)
    after = build_clip(MODEL, pretrained=files_after['after'])
    with open(os.path.join(val_root, 'annotations', 'instances.json')) as f:
        instances = json.load(f)
    names = {c['id']: c['name'] for c in instances['categories']}
    for i in range(2):
        image_id = instances['images'][i]['id']
        present = [names[a['category_id']] for a in instances['annotations'] if a['image_id'] == image_id]
        queries = list(dict.fromkeys(present))[:3] or list(SHAPES[:3])  # the shapes in this scene
        text = build_text_embeddings(before, queries)
        image = Image.open(os.path.join(val_root, 'images', instances['images'][i]['file_name']))
        rows = [('original CLIP', dense_views(before, image, size=SCENE, text_embeddings=text)),
                ('after CLIPSelf (proposals)', dense_views(after, image, size=SCENE, text_embeddings=text))]
        save_dense_figure(os.path.join(out_dir, f'dense_features_{i + 1}.png'), image, rows, queries)


def _save_detections(out_dir: str, detectors: Dict[str, str], image_dir: str, num: int = 3):
    """``detections.png``: F-ViT's detections (score >= 0.3) on the first held-out scenes, one row per backbone."""
    from PIL import Image

    from .data.synthetic import SHAPES
    from .det.demo import OpenVocabDetector
    config = os.path.join(ROOT, 'configs', 'fvit', 'fvit_demo_synthetic.py')
    images = sorted(os.listdir(image_dir))[:num]
    rows = []
    for tag, ckpt in detectors.items():
        det = OpenVocabDetector(config, ckpt, SHAPES)
        tiles = []
        for name in images:
            dst = os.path.join(out_dir, 'detections', tag, name)
            det.draw(os.path.join(image_dir, name), det(os.path.join(image_dir, name)), dst, score_thr=0.3)
            tiles.append(Image.open(dst).convert('RGB'))
        rows.append(tiles)
    w, h = rows[0][0].size
    canvas = Image.new('RGB', (w * len(images), h * len(rows)), 'white')
    for r, tiles in enumerate(rows):
        for c, tile in enumerate(tiles):
            canvas.paste(tile.resize((w, h)), (c * w, r * h))
    canvas.save(os.path.join(out_dir, 'detections.png'))


def _pretraining_line(p: dict) -> str:
    if 'steps' not in p:
        return 'The CLIP file records no pre-training figures.'

    def stage(q: dict) -> str:
        stuff = (f", {100 * q['stuff_p']:.0f}% of each batch background-only images captioned with their texture "
                 "(the stuff classes)" if q.get('stuff_p') else ', captions naming the shape only')
        return (f"{q['steps']} steps of batch {q.get('batch_size')} at lr {q.get('lr')} on {q.get('pool')} captioned "
                f"single-shape images{stuff} (seed {q.get('seed')}, {q.get('seconds')} s)")
    init = p.get('init') if isinstance(p.get('init'), dict) and 'steps' in p['init'] else None
    stages = (f"{stage(init)}, then {stage(p)}" if init else stage(p))
    line = (f"The CLIP was pre-trained by `tools/pretrain_tiny_clip.py`: {stages}; zero-shot shape top-1 on its "
            f"held-out images {100 * p.get('zero_shot_top1', float('nan')):.1f}%"
            + (f", texture top-1 {100 * p['stuff_zero_shot_top1']:.1f}%." if 'stuff_zero_shot_top1' in p else '.'))
    if not (p.get('stuff_p') or (init or {}).get('stuff_p')):
        line += (" It never saw the background words: the two stuff classes (stripes, blotches) are words it never "
                 "learned, so the stuff columns show no knowledge to distil.")
    return line


def _write_report(path: str, r: dict):
    kinds = ('rois', 'crops', 'maskpool')
    cols = [('before', 'original CLIP'), ('after', 'proposals: student'), ('after_ensemble', 'proposals: ensemble 0.7'),
            ('after_patches', 'patches: student'), ('after_preserve', 'proposals + loss_image: student'),
            ('after_preserve_ensemble', 'proposals + loss_image: ensemble')]
    lines = ['# clipself demo: CLIPSelf on a generated world', '',
             f"Seed {r['seed']}, {r['train_images']} training / {r['val_images']} held-out scenes of {r['scene_px']} px, "
             f"CLIP {r['model']} ({r['clip_weights']}), crops at {r['crop_px']} px, {r['epochs']} epochs of batch "
             f"{r['batch']} per run, {r['seconds']} s on {r['machine']} ("
             + ', '.join(f"{k.split('.', 1)[1]} {v} s" for k, v in sorted(r.items()) if k.startswith('seconds.'))
             + ').', '',
             _pretraining_line(r.get('clip_pretraining') or {}), '',
             'Zero-shot region classification on the held-out scenes (per-class mean accuracy, %, thing top-1 / '
             'stuff top-1):', '', '| model | ' + ' | '.join(kinds) + ' | image zero-shot |',
             '|---|' + '---|' * (len(kinds) + 1)]
    for key, label in cols:
        if f'{key}.rois.thing.macc1' not in r:
            continue
        cells = [f"{r[f'{key}.{k}.thing.macc1']:.1f} / {r[f'{key}.{k}.stuff.macc1']:.1f}" for k in kinds]
        zs = r.get(f'{key}.clip_zeroshot_top1', r['clip_zeroshot_top1'] if key == 'before' else None)
        lines.append(f'| {label} | ' + ' | '.join(cells) + f' | {100 * zs:.1f} |')
    gain = r['after.rois.thing.macc1'] - r['before.rois.thing.macc1']
    gap = r['before.crops.thing.macc1'] - r['before.rois.thing.macc1']
    lines += ['', f"rois thing top-1 gained {gain:+.1f} points with proposal distillation: crops, the image-level "
              f"reference, score {r['before.crops.thing.macc1']:.1f}, so "
              + (f"{100 * gain / gap:.0f}% of the gap between the dense features and the crops closed." if gap > 0
                 else "the dense features were not behind the crops."), '']
    if 'after_preserve.rois.thing.macc1' in r:
        n = VARIANTS['after_preserve'].get('loss_image_crops')
        lines += [f"proposals + loss_image: the image-level term keeps the student's own embedding of the whole image "
                  f"and of {'all' if n is None else n} of its crops near the teacher's; the image zero-shot column "
                  "shows what it keeps of the CLIP's zero-shot accuracy.", '']
    if 'fvit.novel_ap50.original' in r:
        lines += [f"F-ViT ({r['fvit_epochs']} epochs on the base-class boxes of the training scenes, backbone frozen), "
                  f"box AP50 (%) on the held-out scenes; novel classes: {', '.join(r['novel'])}:", '',
                  '| backbone | novel AP50 | base AP50 | all AP50 |', '|---|---|---|---|']
        for tag, label in (('original', 'original CLIP'), ('distilled', 'CLIPSelf (proposals student)')):
            lines.append(f'| {label} | ' + ' | '.join(f"{r.get(f'fvit.{k}.{tag}', float('nan')):.1f}"
                                                       for k in ('novel_ap50', 'base_ap50', 'all_ap50')) + ' |')
        lines += ['', 'Detections (score >= 0.3; top row original, bottom row distilled backbone):', '',
                  '![detections](detections.png)', '']
    lines += ['![loss curves](loss_curves.png)', '', '![dense features](dense_features_1.png)',
              '![dense features](dense_features_2.png)', '']
    with open(path, 'w') as f:
        f.write('\n'.join(lines))
