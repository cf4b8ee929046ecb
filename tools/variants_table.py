"""The ViT-variants table on the shapes world: each tower option distilled with the same budget as the baseline.

For every row: CLIPSelf-distil the demo's tiny EVA02 CLIP (``assets/demo_clip_eva02-small-8.safetensors``) on
generated scenes (``configs/clipself/clipself_tiny_synthetic.py`` with the row's ``build_clip`` options, the same
seed, data, iterations and learning rate), export the student, and measure zero-shot region classification on
held-out scenes (rois / crops, thing top-1 %), the mean time of a training iteration (after two warm-up
iterations), the peak memory (CUDA: ``max_memory_allocated``; CPU: the row process's peak RSS, which includes
Python, torch and the data) and the image tower's size. Each row runs in its own process. The quantisation rows
post-training-quantise the baseline row's student (MPTQ-ViT, ``clipself.quant``; calibrated on training scenes) at
W8A8 / W6A6 / W4A4 and mixed precision under the all-6-bit size, and evaluate it the same way. The scenes are the
demo's world with its open-vocabulary split (``star`` and ``ring`` novel), so ``--fvit`` also trains the demo's
F-ViT on every row's CLIP (frozen, built with the row's tower options) and reports novel / base box AP50; the
early-shortcut row (ExMobileViT, an F-ViT head option) is F-ViT with
``configs/variants/fvit_demo_synthetic_early-shortcut.py`` on the baseline row's student.

    python tools/variants_table.py --out work_dirs/variants_table --fvit --jobs 2   # the full table
    python tools/variants_table.py --out work_dirs/variants_short --short          # a few iterations: shows it works

``--jobs N`` runs N rows at a time (each in its own process, with cores / N threads; rows that need the baseline
row's student wait for it). Side-by-side rows share the machine, so compare their s / iter within one run only.

``--declip`` runs the DeCLIP-style rows instead (docs/context_distillation.md), on the same world: CLIPSelf as it
is, the decoupled 'qq' block alone, 'qq' / 'csa' with the context loss toward the frozen CLIP's own affinity (self
teacher), and CLIPSelf on a SigLIP-style tiny tower (``SigLIP-Small-8``, pre-trained with the sigmoid loss: the file
``--siglip-clip``, pre-trained by the row with the demo's recipe when it does not exist), same seed, data,
iterations and learning rate. Each row reports rois / crops / maskpool thing and stuff top-1, training-free
segmentation mIoU, image zero-shot top-1 and the time per distillation iteration.

    python tools/variants_table.py --declip --out work_dirs/declip_table [--fvit] [--jobs 2]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODEL = 'EVA02-Small-8'  # 6 blocks of width 128
ROWS = {  # name -> build_clip options
    'baseline': {},
    'revit (alpha0 1.0)': dict(residual_attention=dict(alpha=1.0)),
    'revit (alpha0 0.5)': dict(residual_attention=dict(alpha=0.5)),
    'conv-branch (blocks 0-4)': dict(conv_branch=dict(blocks=[0, 1, 2, 3, 4])),
}
SELF_TEACHER = dict(type='self', block=2)  # the middle of the demo CLIP's 6 blocks
DECLIP_ROWS = {  # name -> (build_clip options, CLIPSelf options)
    'clipself': ({}, {}),
    'decoupled qq (no context loss)': (dict(dense_mode='qq'), {}),
    'qq + context (self teacher)': (dict(dense_mode='qq'), dict(context_teacher=SELF_TEACHER)),
    'csa + context (self teacher)': (dict(dense_mode='csa'), dict(context_teacher=SELF_TEACHER)),
    'siglip-style tower (CLIPSelf)': ({}, {}),
}
TOWER_ROWS = {'siglip-style tower (CLIPSelf)': 'siglip'}  # row -> the demo's tower (clipself.demo.settings.TOWERS)
HEAD_ROWS = {  # name -> F-ViT config: the baseline row's student under another detector head (needs --fvit)
    'early-shortcut (F-ViT head, blocks 1-2)': 'configs/variants/fvit_demo_synthetic_early-shortcut.py',
}
QUANT_ROWS = {  # name -> bits: the baseline row's distilled student, post-training quantised (MPTQ-ViT)
    'baseline W8A8': 8, 'baseline W6A6': 6, 'baseline W4A4': 4, 'baseline mixed (6-bit size)': 'mixed',
}
SIZES = {
    'full': dict(train_images=320, val_images=160, iters=960, batch=2, lr=2e-4, calib=32,  # the demo's 6 epochs
                 zero_shot_images=400, seg_images=40, fvit_epochs=2),
    'short': dict(train_images=8, val_images=6, iters=6, batch=2, lr=2e-4, calib=2, zero_shot_images=16,
                  seg_images=2, fvit_epochs=1),
}
NOVEL = ('star', 'ring')  # the demo's novel shapes (F-ViT rows)
SCENE, CROP = 192, 64


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, MB (Linux reports ``ru_maxrss`` in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 10


def _time_hook():
    from mmengine.hooks import Hook

    class IterTimes(Hook):
        def __init__(self):
            self.times, self._t = [], None

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self._t = time.perf_counter()

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            self.times.append(time.perf_counter() - self._t)
    return IterTimes()


def row_clip(name: str, out: str, seed: int, siglip_clip: Optional[str] = None, short: bool = False) -> tuple:
    """``(model name, CLIP file, F-ViT config or None)`` the row distils: the demo's EVA02 CLIP, or for a
    ``TOWER_ROWS`` row that tower's CLIP (``siglip_clip``, default ``{out}/siglip_clip.safetensors``), pre-trained
    here with the demo's recipe and the tower's loss when the file does not exist (seeded like the rows). ``short``
    (``--short``): a 10-step pre-training into ``{out}/siglip_clip_short.safetensors`` instead (shows it works)."""
    from clipself.demo import DEMO_CLIP
    if name not in TOWER_ROWS:
        return MODEL, DEMO_CLIP, None
    from clipself.demo.pretrain import pretrain_demo_clip, pretrain_tiny_clip
    from clipself.demo.settings import TOWERS
    from clipself.demo.stages import fvit_tower_config
    tower = TOWERS[TOWER_ROWS[name]]
    default = 'siglip_clip_short.safetensors' if short else 'siglip_clip.safetensors'
    path = os.path.abspath(siglip_clip or os.path.join(out, default))
    if not os.path.isfile(path):
        print(f'[variants] {name}: pre-training {path} ({tower["model"]}, {tower["loss"]} loss)', file=sys.stderr,
              flush=True)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        common = dict(seed=seed, model_name=tower['model'], loss=tower['loss'],
                      log=lambda m: print(m, file=sys.stderr, flush=True))
        if short:
            pretrain_tiny_clip(path, steps=10, batch_size=16, pool=64, **common)
        else:
            pretrain_demo_clip(path, **common)
    return tower['model'], path, fvit_tower_config(out, tower['model'], tower['pixel_norm'])


def run_row(name: str, data: str, out: str, size: dict, seed: int) -> dict:
    """Distil and evaluate one row in this process; returns its figures (``size``: also the run's ``short`` and
    ``siglip_clip`` settings)."""
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner

    from clipself.demo.pretrain import clip_record
    from clipself.demo.stages import region_classification
    from clipself.distill.export import dense_mode_metadata
    from clipself.models import save_safetensors

    options, model_options = DECLIP_ROWS[name] if name in DECLIP_ROWS else (ROWS[name], {})
    model, clip, fvit_config = row_clip(name, out, seed, size.get('siglip_clip'), short=size.get('short', False))
    tag = name.split()[0] + ''.join(c for c in name if c.isdigit())
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'clipself', 'clipself_tiny_synthetic.py'))
    cfg.model.clip = dict(model_name=model, pretrained=clip, **options)
    cfg.model.update(model_options)
    cfg.model.cache_teacher = True
    ds = cfg.train_dataloader.dataset
    ds.update(data_root=os.path.join(data, 'train') + '/', sampler='proposals', student_size=SCENE, crop_size=CROP,
              seed=seed)
    ds.pop('generate', None)
    cfg.train_dataloader.batch_size = size['batch']
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=size['iters'])
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.optim_wrapper.optimizer.lr = size['lr']
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
                           dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=0, end=size['iters'],
                                T_max=size['iters'])]
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=50)
    cfg.log_processor = dict(type='LogProcessor', window_size=10, by_epoch=False)
    cfg.custom_hooks = [dict(type='NonFiniteLossHook'), dict(type='TeacherEvalHook')]
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = os.path.join(out, 'distill_' + tag)
    cfg.experiment_name = 'variants_' + tag
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    timer = _time_hook()
    runner.register_hook(timer)
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    runner.train()
    student = runner.model.student
    path = save_safetensors(student.clip, os.path.join(cfg.work_dir, 'student.safetensors'), model_name=model,
                            extra=dense_mode_metadata(student.dense_mode))
    times = timer.times[2:] or timer.times
    res = dict(row=name, model=model, clip_zeroshot_top1=clip_record(clip).get('zero_shot_top1'),
               iters=len(timer.times), sec_per_iter=sum(times) / len(times),
               peak_mb=torch.cuda.max_memory_allocated() / 2 ** 20 if cuda else _peak_rss_mb(),
               tower_params=sum(p.numel() for p in student.clip.visual.parameters()),
               option_params=sum(p.numel() for p in student.variant_parameters()))
    if student.variants is not None and student.variants.residual is not None:
        res['alpha_after'] = student.variants.residual.alpha.item()
    metrics = region_classification(dict(model_name=model, pretrained=path, **options), os.path.join(data, 'val'),
                                    out, tag)
    res.update({k: metrics[f'{k}.thing.macc1'] for k in ('rois', 'crops')})
    if name in DECLIP_ROWS:
        res.update(_declip_figures(path, metrics, size, seed, model))
    if size.get('fvit'):  # a decoupled block is recorded in the file; the tower options are not
        res.update(fvit_figures(path, data, out, size, seed, tag, tower_options=options or None, config=fvit_config))
    return res


def run_head_row(name: str, data: str, out: str, size: dict, seed: int) -> dict:
    """F-ViT with another head (``HEAD_ROWS[name]``) on the baseline row's student; the distillation columns are
    the baseline's."""
    student = _baseline_student(out)
    return dict(row=name, head=True, **fvit_figures(student, data, out, size, seed, 'head_' + name.split()[0],
                                                    config=HEAD_ROWS[name]))


def _baseline_student(out: str) -> str:
    student = os.path.join(out, 'distill_baseline', 'student.safetensors')
    if not os.path.isfile(student):
        raise FileNotFoundError(f'{student} missing: this row needs the baseline row first')
    return student


def _declip_figures(path: str, metrics: dict, size: dict, seed: int, model_name: str = MODEL) -> dict:
    """The DeCLIP rows' further figures of a student file: all region-classification top-1s, training-free
    segmentation mIoU and image zero-shot top-1 (the demo's protocols)."""
    import numpy as np

    from clipself.data.synthetic import SHAPES
    from clipself.demo.pretrain import captioned_images, zero_shot_accuracy
    from clipself.evaluation.segmentation import SEMANTIC_CLASSES, synthetic_semantic_miou
    from clipself.models import build_clip
    from clipself.models.text import build_text_embeddings
    res = {f'{k}.{part}': metrics[f'{k}.{part}.macc1'] for k in ('rois', 'crops', 'maskpool')
           for part in ('thing', 'stuff')}
    model = build_clip(model_name, pretrained=path)  # the dense mode from the file's record
    images, labels, _ = captioned_images(np.random.default_rng(seed + 7), size['zero_shot_images'])
    res['zeroshot_top1'] = 100 * zero_shot_accuracy(model, images, labels, SHAPES,
                                                    text=build_text_embeddings(model, list(SHAPES)))
    res['seg_miou'] = synthetic_semantic_miou(model, build_text_embeddings(model, list(SEMANTIC_CLASSES)),
                                              num_images=size['seg_images'], seed=seed + 1000)['miou']
    return res


def fvit_figures(path: str, data: str, out: str, size: dict, seed: int, tag: str, *, config: Optional[str] = None,
                 tower_options: Optional[dict] = None) -> dict:
    """The demo's F-ViT (or ``config``) trained on the base shapes with the CLIP file ``path`` frozen as its
    backbone (built with ``tower_options``): ``{'novel_ap50': ..., 'base_ap50': ...}`` (%)."""
    from clipself.demo.stages import train_fvit
    opts = {'model.backbone.tower_options': tower_options} if tower_options else None
    ap = train_fvit(path, data, _ov_world(size, seed), out, size['fvit_epochs'], seed, tag=tag,
                    config=None if config is None else os.path.join(ROOT, config), cfg_options=opts)
    return dict(novel_ap50=ap.get('novel_ap50'), base_ap50=ap.get('base_ap50'))


def _ov_world(size: dict, seed: int) -> dict:
    """``ensure_synthetic_ov_coco`` arguments of the DeCLIP rows' world (the demo's: F-ViT reads its OV split)."""
    return dict(num_images=size['train_images'], seed=seed, size=(SCENE, SCENE), novel=list(NOVEL),
                val_images=size['val_images'])


def run_quant_row(name: str, data: str, out: str, size: dict, seed: int) -> dict:
    """Quantise the baseline row's student (calibrated on training scenes) and evaluate it (with ``--fvit``: F-ViT
    on the quantised CLIP too)."""
    from clipself.demo.stages import region_classification
    from clipself.models import build_clip, save_safetensors
    from clipself.quant import quantize_clip, tower_bytes, tower_groups
    from clipself.quant.calibration import calibration_images, make_calibrate

    bits = QUANT_ROWS[name]
    student = _baseline_student(out)
    model = build_clip(MODEL, student)
    layers = {n: 6 for g in tower_groups(model.tower) for n in g.linears}
    budget = tower_bytes(model.clip.visual, layers) / 2 ** 20 if bits == 'mixed' else None
    paths = calibration_images(os.path.join(data, 'train', 'images'), size['calib'])
    t0 = time.perf_counter()
    spec = quantize_clip(model, make_calibrate(model, paths, dense_size=SCENE), bits=bits, budget_mb=budget)
    seconds = time.perf_counter() - t0
    tag = 'quant_' + str(bits)
    path = save_safetensors(model.clip, os.path.join(out, tag + '.safetensors'), model_name=MODEL,
                            extra=dict(quantization=spec))
    metrics = region_classification(dict(model_name=MODEL, pretrained=path), os.path.join(data, 'val'), out, tag)
    used = {b: sum(v['bits'] == b for v in spec['layers'].values()) for b in (8, 6, 4)}
    res = dict(row=name, quant_seconds=seconds, tower_mb=spec['tower_mb'],
               fp32_mb=tower_bytes(model.clip.visual, {}) / 2 ** 20, bits=used,
               peak_mb=_peak_rss_mb(),
               **{k: metrics[f'{k}.thing.macc1'] for k in ('rois', 'crops')})
    if size.get('fvit'):
        res.update(fvit_figures(path, data, out, size, seed, tag))
    return res


def _row_file(out: str, row: str) -> str:
    return os.path.join(out, 'rows', ''.join(c if c.isalnum() else '_' for c in row) + '.json')


def run_row_process(row: str, cmd: list, saved: str) -> dict:
    """One row in a process of its own (its peak memory is its own), with as many threads as this worker was given;
    the row's figures are written to ``saved`` (``--resume`` reuses them)."""
    import torch
    env = dict(os.environ, OMP_NUM_THREADS=str(torch.get_num_threads()), PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode:
        raise RuntimeError(f'row {row!r} failed:\n{proc.stderr[-3000:]}')
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    with open(saved + '.tmp', 'w') as f:
        json.dump(result, f)
    os.replace(saved + '.tmp', saved)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='work_dirs/variants_table')
    ap.add_argument('--short', action='store_true', help='a few iterations on a few scenes (shows it works)')
    ap.add_argument('--rows', nargs='*', default=None,
                    help=f'rows to run (default all: {list(ROWS) + list(HEAD_ROWS) + list(QUANT_ROWS)}; '
                         f'with --declip: {list(DECLIP_ROWS)})')
    ap.add_argument('--declip', action='store_true', help='the DeCLIP-style rows (decoupled block, context loss)')
    ap.add_argument('--fvit', action='store_true', help='F-ViT novel / base AP50 of every row (and the head rows)')
    ap.add_argument('--jobs', type=int, default=1, help='rows run at a time (each with cores / jobs threads)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--resume', action='store_true', help='reuse the rows an earlier run in --out finished')
    ap.add_argument('--siglip-clip', default=None,
                    help="the SigLIP-style row's CLIP (SigLIP-Small-8; default {out}/siglip_clip.safetensors, "
                         'pre-trained by the row with the demo recipe and the sigmoid loss when missing)')
    ap.add_argument('--row', help=argparse.SUPPRESS)  # internal: run one row in this process
    args = ap.parse_args()
    size = dict(SIZES['short' if args.short else 'full'], fvit=args.fvit, short=args.short,
                siglip_clip=args.siglip_clip and os.path.abspath(args.siglip_clip))
    out = os.path.abspath(args.out)
    data = os.path.join(out, 'data')
    known = list(DECLIP_ROWS) if args.declip else list(ROWS) + list(HEAD_ROWS) + list(QUANT_ROWS)
    if args.row:
        fn = run_quant_row if args.row in QUANT_ROWS else run_head_row if args.row in HEAD_ROWS else run_row
        print(json.dumps(fn(args.row, data, out, size, args.seed)))
        return
    if args.rows is None:
        args.rows = [r for r in known if args.fvit or r not in HEAD_ROWS]
    unknown = [r for r in args.rows if r not in known]
    if unknown:
        ap.error(f'unknown rows {unknown}; choose from {known}')
    if not args.fvit and any(r in HEAD_ROWS for r in args.rows):
        ap.error(f'the head rows {list(HEAD_ROWS)} are F-ViT runs: they need --fvit')
    if args.jobs < 1:
        ap.error(f'--jobs must be >= 1, got {args.jobs}')
    from clipself.det.datasets import ensure_synthetic_ov_coco  # the demo's world with its OV split (F-ViT)
    ensure_synthetic_ov_coco(data, **_ov_world(size, args.seed))
    os.makedirs(os.path.join(out, 'rows'), exist_ok=True)
    done, tasks = {}, {}
    for row in args.rows:
        saved = _row_file(out, row)
        if args.resume and os.path.isfile(saved):  # a row an interrupted run finished
            with open(saved) as f:
                done[row] = json.load(f)
            continue
        cmd = [sys.executable, os.path.abspath(__file__), '--out', out, '--row', row, '--seed', str(args.seed)]
        cmd += [flag for flag, on in (('--short', args.short), ('--declip', args.declip), ('--fvit', args.fvit)) if on]
        cmd += ['--siglip-clip', size['siglip_clip']] if size['siglip_clip'] else []
        tasks[row] = (run_row_process, row, cmd, saved)
    # the rows on the baseline's student wait for it when it runs too; listed after the distillations
    order = sorted(tasks, key=lambda r: r in QUANT_ROWS or r in HEAD_ROWS)
    tasks = {r: tasks[r] for r in order}
    needs = {r: 'baseline' for r in tasks if (r in QUANT_ROWS or r in HEAD_ROWS) and 'baseline' in tasks}
    from clipself.demo.scheduler import available_cores, run_in_parallel
    cores = available_cores()
    jobs = min(args.jobs, len(tasks)) or 1
    done.update(run_in_parallel(tasks, lambda m: print(m.replace('[demo]', '[variants]'), flush=True), needs=needs,
                                on_done=lambda row, r: print(f'[variants] {row}: done', flush=True),
                                processes=jobs, threads=max(1, cores // jobs)) if tasks else {})
    results = [done[r] for r in args.rows]
    with open(os.path.join(out, 'results.json'), 'w') as f:
        json.dump(dict(size=size, seed=args.seed, model=MODEL, jobs=jobs, rows=results), f, indent=2)
    models = sorted({r.get('model', MODEL) for r in results})
    print(f'shapes world, {" / ".join(models)} demo CLIP, {size["iters"]} iterations of batch {size["batch"]} '
          f'({size["train_images"]} training / {size["val_images"]} held-out scenes), seed {args.seed}, '
          f'{jobs} row(s) at a time')
    if args.declip:
        _print_declip(results)
        return
    _print_variants(results)


def _ap(r: dict) -> str:
    return ' | '.join('-' if r.get(k) is None else f'{r[k]:.1f}' for k in ('novel_ap50', 'base_ap50'))


def _print_variants(results) -> None:
    fvit = any('novel_ap50' in r for r in results)
    head = ' | F-ViT novel AP50 | F-ViT base AP50' if fvit else ''
    print(f'| row | rois thing top-1 | crops thing top-1{head} | s / iter | peak MB | tower params (options) |')
    print('|---|---|---|' + ('---|---|' if fvit else '') + '---|---|---|')
    base = next((r for r in results if r['row'] == 'baseline'), None)
    for r in results:
        if 'tower_mb' in r:
            continue
        ap = f' | {_ap(r)}' if fvit else ''
        if r.get('head'):  # the baseline's CLIP under another F-ViT head
            same = '= baseline' if base else '-'
            print(f'| {r["row"]} | {same} | {same}{ap} | - | - | - |')
            continue
        extra = f', alpha -> {r["alpha_after"]:.3f}' if 'alpha_after' in r else ''
        print(f'| {r["row"]}{extra} | {r["rois"]:.1f} | {r["crops"]:.1f}{ap} | {r["sec_per_iter"]:.3f} | '
              f'{r["peak_mb"]:.0f} | {r["tower_params"] / 1e6:.3f} M ({r["option_params"]}) |')
    quant = [r for r in results if 'tower_mb' in r]
    if quant:
        print()
        print('| post-training quantisation of the baseline student | rois thing top-1 | crops thing top-1'
              f'{head} | tower MB (fp32) | layers at 8 / 6 / 4 bits | calibration s |')
        print('|---|---|---|' + ('---|---|' if fvit else '') + '---|---|---|')
        for r in quant:
            b = r['bits']
            ap = f' | {_ap(r)}' if fvit else ''
            print(f'| {r["row"]} | {r["rois"]:.1f} | {r["crops"]:.1f}{ap} | {r["tower_mb"]:.2f} ({r["fp32_mb"]:.2f}) | '
                  f'{b["8"]} / {b["6"]} / {b["4"]} | {r["quant_seconds"]:.0f} |')


def _print_declip(results) -> None:
    fvit = any('novel_ap50' in r for r in results)
    cols = ['rois.thing', 'rois.stuff', 'crops.thing', 'crops.stuff', 'maskpool.thing', 'maskpool.stuff', 'seg_miou',
            'zeroshot_top1'] + (['novel_ap50', 'base_ap50'] if fvit else [])
    print('| row | ' + ' | '.join(cols) + ' | s / iter | peak MB |')
    print('|---|' + '---|' * (len(cols) + 2))
    for r in results:
        cells = ['-' if r.get(c) is None else f'{r[c]:.1f}' for c in cols]
        print(f'| {r["row"]} | ' + ' | '.join(cells) + f' | {r["sec_per_iter"]:.3f} | {r["peak_mb"]:.0f} |')
    for r in results:  # the towers' own pre-training figure (the distilled CLIPs' starting point)
        if r.get('clip_zeroshot_top1') is not None and r['row'] in TOWER_ROWS:
            print(f'{r["row"]}: {r["model"]}, image zero-shot top-1 before distillation '
                  f'{100 * r["clip_zeroshot_top1"]:.1f} (its pre-training record, 1000 held-out images)')


if __name__ == '__main__':
    main()
