"""``run_demo``: the run behind ``make demo``: CLIPSelf end to end on a generated world, on a CPU, no downloads.

1. Generates scenes of coloured shapes on textured backgrounds (``clipself.data.synthetic_coco``): a training
   set (COCO json + honest proposals: jittered object boxes plus false ones) and a held-out panoptic set.
2. Loads the shipped tiny CLIP (``assets/demo_clip_eva02-small-8.safetensors``, pre-trained by
   ``tools/pretrain_tiny_clip.py`` on captioned single-shape images) or retrains it, and measures its zero-shot
   image classification.
3. Evaluates zero-shot region classification (the real metric: rois / crops / maskpool, thing / stuff).
4. Distils it with the real configs and runner, three times: region proposals (the default), image patches, and
   proposals with the image-level preservation term (in parallel processes when there are cores for them: tiny
   models use two cores better as two single-thread runs); evaluates each student and its exported ensemble.
5. Segments generated scenes training-free (8 shapes + 2 textures, mIoU) with the original and the distilled CLIP.
6. Trains F-ViT (``configs/fvit/fvit_demo_synthetic.py``) on the base shapes with the original and with the
   distilled CLIP frozen as its backbone; box AP50 on novel (``star``, ``ring``) and base shapes.
7. Writes ``report.md``, ``results.json`` and pictures (loss curves, dense features before/after, segmentation,
   detections).
"""
import logging
import os
import platform
import shutil
import time
from functools import partial
from typing import Callable, Dict, Optional

import numpy as np
import torch

from ..fileio import write_json
from .plots import save_detections, save_pictures
from .regionclip import describe_regionclip, regionclip_and_evaluate
from .report import write_report
from .scheduler import plan_workers, run_in_parallel
from .segmentation import segmentation_row
from .settings import CROP, DEFAULT_VARIANTS, DEMO_CLIP, ENSEMBLE_ROWS, NOVEL, ROOT, SCENE, SIZES, TOWERS, VARIANTS
from .stages import (describe_distill, describe_fvit, distill_and_evaluate, export_paths, fvit_tower_config,
                     region_classification, train_and_evaluate_fvit)

logger = logging.getLogger(__name__)


def run_demo(out_dir: str, *, seed: int = 0, fast: bool = False, retrain_clip: bool = False,
             clip: Optional[str] = None, tower: str = 'eva02', all_variants: bool = False,
             regionclip: bool = False,
             log: Callable[[str], None] = logger.info) -> Dict:
    """Run the demo into ``out_dir``; returns the figures written to ``results.json`` (keys as
    ``before.rois.thing.macc1``). ``log`` gets one line per step and per finished run (default: this module's
    logger). ``tower``: ``'eva02'`` (the shipped EVA02-style CLIP) or ``'siglip'`` (the SigLIP-style
    ``SigLIP-Small-8``, pre-trained with the sigmoid loss by this run unless ``clip`` names such a file).
    ``all_variants``: every distillation variant of ``settings.VARIANTS`` (default: ``DEFAULT_VARIANTS``; the fast
    variant: proposals only). ``regionclip``: also distil the RegionCLIP-style baseline
    (:mod:`clipself.demo.regionclip`)."""
    if tower not in TOWERS:
        raise ValueError(f'tower must be one of {", ".join(TOWERS)}, got {tower!r}')
    if regionclip and tower != 'eva02':
        raise ValueError('the RegionCLIP-style row runs on the default (eva02) tower only')
    from ..data.synthetic import SHAPES
    from ..det.datasets import ensure_synthetic_ov_coco
    from ..models import build_clip
    from ..models.text import build_text_embeddings
    from .pretrain import (RECIPES, captioned_images, clip_record, pretrain_demo_clip, pretrain_tiny_clip,
                           zero_shot_accuracy)
    model, loss = TOWERS[tower]['model'], TOWERS[tower]['loss']
    t0 = time.time()
    size = SIZES['fast' if fast else 'full']
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(seed)
    res: Dict = dict(seed=seed, variant='fast' if fast else 'full', model=model, scene_px=SCENE, crop_px=CROP,
                     novel=list(NOVEL), **{k: v for k, v in size.items()})

    clip_path = clip or (DEMO_CLIP if tower == 'eva02' else '')  # no shipped SigLIP-style file
    if retrain_clip or not os.path.isfile(clip_path):
        # without the shipped file a short pre-training keeps the demo within its time (a weaker CLIP, reported)
        clip_path = os.path.join(out_dir, 'demo_clip.safetensors')
        common = dict(model_name=model, loss=loss)
        if retrain_clip or (tower != 'eva02' and not fast):
            steps = sum(stage['steps'] for stage in RECIPES[loss])
            log(f'[demo] pre-training the tiny CLIP ({model}, {loss} loss) with the demo recipe ({steps} steps of '
                'batch 128, about a second each on 2 cores)')
            pretrain_demo_clip(clip_path, seed=seed, log=log, **common)
        else:
            log(f'[demo] pre-training the tiny CLIP ({model}, {loss} loss, 150 steps): no shipped file found')
            pretrain_tiny_clip(clip_path, steps=150, seed=seed, log=log, **common)
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

    original = build_clip(model, pretrained=clip_path)
    zs_text = build_text_embeddings(original, list(SHAPES))  # the text tower stays frozen
    zero_shot = (zs_images, zs_labels, SHAPES, zs_text)
    res['clip_zeroshot_top1'] = zero_shot_accuracy(original, zs_images, zs_labels, SHAPES, text=zs_text)
    log(f'[demo] CLIP zero-shot shape accuracy (image level): {res["clip_zeroshot_top1"]:.3f}')
    before = region_classification(dict(model_name=model, pretrained=clip_path), val_root, out_dir, 'before')
    res.update({f'before.{k}': v for k, v in before.items()})
    log(f'[demo] before distillation: rois {before["rois.thing.macc1"]:.1f} / crops {before["crops.thing.macc1"]:.1f}'
        f' / maskpool {before["maskpool.thing.macc1"]:.1f} (thing top-1) ({time.time() - t0:.0f} s)')

    # the distillation variants and the two F-ViT runs (original vs distilled backbone, trained on the base
    # classes), in parallel processes where there are cores for them; F-ViT on the distilled CLIP waits for it
    # listed longest first (the scheduler starts them in this order)
    variants = (['after'] if fast else ['after', 'after_preserve', 'after_patches'] if all_variants
                else list(DEFAULT_VARIANTS))
    clips = {'original': clip_path, 'distilled': export_paths(out_dir)['after']}
    log(f'[demo] distilling: {", ".join(variants)} ({size["epochs"]} epochs of {size["train_images"]} scenes each);'
        f' F-ViT: {size["fvit_epochs"]} epoch(s) per backbone')
    tasks = {v: (distill_and_evaluate, v, clip_path, train_root, val_root, out_dir, size, seed, zero_shot,
                 not fast and v in ENSEMBLE_ROWS, model) for v in variants}
    fvit_config = None if tower == 'eva02' else fvit_tower_config(out_dir, model, TOWERS[tower]['pixel_norm'])
    fvit = partial(train_and_evaluate_fvit, config=fvit_config)
    tasks.update({f'fvit_{tag}': (fvit, tag, clips[tag], data, generate, out_dir, size['fvit_epochs'], seed)
                  for tag in ('distilled', 'original')})  # the distilled one first, as soon as 'after' is done
    if regionclip:
        tasks['regionclip'] = (regionclip_and_evaluate, clip_path, train_root, val_root, out_dir, size, seed,
                               zero_shot)

    def report_run(name: str, result) -> None:
        if name.startswith('fvit_'):
            log(describe_fvit(name[len('fvit_'):], result))
        elif name == 'regionclip':
            log(describe_regionclip(result))
        else:
            log(describe_distill(name, result[0]))

    runs = run_in_parallel(tasks, log, needs={'fvit_distilled': 'after'}, on_done=report_run)
    curves = {}
    for variant in VARIANTS:
        if variant in runs:
            figures, curves[variant] = runs[variant]
            res.update(figures)
    for tag in clips:
        res.update(runs[f'fvit_{tag}'])
    res.update(runs.get('regionclip', {}))
    procs, threads = plan_workers(len(tasks))
    log(f'[demo] distillation and F-ViT done ({time.time() - t0:.0f} s)')

    res.update(segmentation_row(out_dir, {'before': clip_path, 'after': export_paths(out_dir)['after']},
                                num_images=size['seg_images'], seed=seed, log=log, model_name=model))

    detectors = {tag: os.path.join(out_dir, f'fvit_{tag}', f'epoch_{size["fvit_epochs"]}.pth') for tag in clips}

    save_pictures(out_dir, curves, clip_path, files_after=export_paths(out_dir), val_root=val_root, model_name=model)
    save_detections(out_dir, detectors, os.path.join(val_root, 'images'), config=fvit_config)
    res['seconds'] = round(time.time() - t0)
    res['machine'] = (f'{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; distillation and '
                      f'F-ViT runs in {procs} process(es) of {threads} thread(s)')
    write_json(res, os.path.join(out_dir, 'results.json'), indent=2, sort_keys=True)
    write_report(os.path.join(out_dir, 'report.md'), res)
    log(f'[demo] wrote {out_dir}/report.md, results.json and pictures in {res["seconds"]} s')
    return res
