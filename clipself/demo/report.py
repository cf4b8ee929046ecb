"""``report.md``: the demo's figures in words and tables."""
from ..fileio import atomic_write
from .regionclip import regionclip_lines
from .settings import VARIANTS


def pretraining_line(p: dict) -> str:
    """The sentence on how the CLIP was pre-trained, from the record ``clip_record`` reads from its file."""
    if 'steps' not in p:
        return 'The CLIP file records no pre-training figures.'

    def stage(q: dict) -> str:
        stuff = (f", {100 * q['stuff_p']:.0f}% of each batch background-only images captioned with their texture "
                 "(the stuff classes)" if q.get('stuff_p') else ', captions naming the shape only')
        return (f"{q['steps']} steps of batch {q.get('batch_size')} at lr {q.get('lr')} on {q.get('pool')} captioned "
                f"single-shape images{stuff} (seed {q.get('seed')}, {q.get('seconds')} s)")
    chain = [p]  # the stages, last first: each file records the one it continued from under 'init'
    while isinstance(chain[-1].get('init'), dict) and 'steps' in chain[-1]['init']:
        chain.append(chain[-1]['init'])
    stages = ', then '.join(stage(q) for q in reversed(chain))
    line = (f"The CLIP was pre-trained by `tools/pretrain_tiny_clip.py`: {stages}; zero-shot shape top-1 on its "
            f"held-out images {100 * p.get('zero_shot_top1', float('nan')):.1f}%"
            + (f", texture top-1 {100 * p['stuff_zero_shot_top1']:.1f}%." if 'stuff_zero_shot_top1' in p else '.'))
    if not any(q.get('stuff_p') for q in chain):
        line += (" It never saw the background words: the two stuff classes (stripes, blotches) are words it never "
                 "learned, so the stuff columns show no knowledge to distil.")
    return line


def _cell(value) -> str:
    return '-' if value is None else f'{value:.1f}'


def per_class_lines(r: dict) -> list:
    """The table of each shape: the CLIP's crops and rois top-1 before and after distillation (the dense features
    the detector's CLIP score reads) and the detectors' AP50; novel shapes first."""
    from ..data.synthetic import SHAPES
    novel = list(r.get('novel', []))
    shapes = novel + [s for s in SHAPES if s not in novel]
    if f'before.rois.class.{shapes[0]}.top1' not in r:
        return []
    lines = ['Per shape (%): region classification top-1 of the held-out boxes (crops: the original CLIP on crops, '
             'the ceiling the distillation aims at; rois: the dense features) and F-ViT box AP50:', '',
             '| shape | crops, original | rois, original | rois, distilled | AP50, original | AP50, distilled |',
             '|---|---|---|---|---|---|']
    for s in shapes:
        cells = [r.get(f'before.crops.class.{s}.top1'), r.get(f'before.rois.class.{s}.top1'),
                 r.get(f'after.rois.class.{s}.top1'), r.get(f'fvit.class.{s}.ap50.original'),
                 r.get(f'fvit.class.{s}.ap50.distilled')]
        lines.append(f"| {s}{' (novel)' if s in novel else ''} | " + ' | '.join(_cell(c) for c in cells) + ' |')
    return lines


def write_report(path: str, r: dict) -> None:
    """Write the report of the figures ``r`` (``results.json``) to ``path``."""
    kinds = ('rois', 'crops', 'maskpool')
    cols = [('before', 'original CLIP'), ('after', 'proposals: student'), ('after_ensemble', 'proposals: ensemble 0.7'),
            ('after_patches', 'patches: student'), ('after_preserve', 'proposals + loss_image: student'),
            ('after_preserve_ensemble', 'proposals + loss_image: ensemble'),
            ('regionclip', 'RegionCLIP-style: student')]
    lines = ['# clipself demo: CLIPSelf on a generated world', '',
             f"Seed {r['seed']}, {r['train_images']} training / {r['val_images']} held-out scenes of {r['scene_px']} px, "
             f"CLIP {r['model']} ({r['clip_weights']}), crops at {r['crop_px']} px, {r['epochs']} epochs of batch "
             f"{r['batch']} per run, {r['seconds']} s on {r['machine']} ("
             + ', '.join(f"{k.split('.', 1)[1]} {v} s" for k, v in sorted(r.items()) if k.startswith('seconds.'))
             + ').', '',
             pretraining_line(r.get('clip_pretraining') or {}), '',
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
    lines += regionclip_lines(r)
    if 'seg.before.miou' in r:
        lines += [f"Training-free semantic segmentation of {r.get('seg_images')} generated scenes (8 shapes + the 2 "
                  "background textures, each patch classified against the class text embeddings, CLIPSelf's "
                  f"attention-free last block): mIoU {r['seg.before.miou']:.1f} with the original CLIP, "
                  f"{r['seg.after.miou']:.1f} after CLIPSelf (proposals student).", '',
                  '![segmentation](segmentation.png)', '']
    if 'fvit.novel_ap50.original' in r:
        lines += [f"F-ViT ({r['fvit_epochs']} epochs on the base-class boxes of the training scenes, backbone frozen), "
                  f"box AP50 (%) on the held-out scenes; novel classes: {', '.join(r['novel'])}:", '',
                  '| backbone | novel AP50 | base AP50 | all AP50 |', '|---|---|---|---|']
        for tag, label in (('original', 'original CLIP'), ('distilled', 'CLIPSelf (proposals student)')):
            lines.append(f'| {label} | ' + ' | '.join(f"{r.get(f'fvit.{k}.{tag}', float('nan')):.1f}"
                                                       for k in ('novel_ap50', 'base_ap50', 'all_ap50')) + ' |')
        lines += [''] + per_class_lines(r)
        lines += ['', 'Detections (score >= 0.3; top row original, bottom row distilled backbone):', '',
                  '![detections](detections.png)', '']
    lines += ['![loss curves](loss_curves.png)', '', '![dense features](dense_features_1.png)',
              '![dense features](dense_features_2.png)', '']
    with atomic_write(path) as f:
        f.write('\n'.join(lines))
