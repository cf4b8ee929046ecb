"""Post-training quantisation of a CLIP's image tower (MPTQ-ViT: SQ-b, OPT-m, Greedy MP; fake quantisation).

    python tools/quantize.py EVA02-B-16 checkpoints/EVA02_CLIP_B_psz16_s8B.pt --calib-dir data/coco/val2017 \
        --calib 32 --bits mixed --budget 60 --out checkpoints/eva02-b16_mptq-60mb.safetensors
    python tools/quantize.py configs/clipself/clipself_eva02-b16_coco-patches_6e.py CKPT --bits 8 ...

The first argument is a model name or a config whose ``model.clip`` / ``model.backbone`` names one (the config's
tower options are used too). The output loads with ``build_clip`` (and so in every config) like any CLIP file:
its weights are SQ-b-folded and quantised, and its metadata brings the activation quantisers back.
"""
import argparse
import json
import logging
import os
import sys


from clipself.models import build_clip, save_safetensors  # noqa: E402
from clipself.quant import quantize_clip  # noqa: E402
from clipself.quant.calibration import calibration_images, make_calibrate  # noqa: E402

OPTIONS = ('residual_attention', 'conv_branch', 'window_attention', 'tower_options')


def _model_args(spec: str) -> dict:
    """``build_clip`` keyword arguments (without weights) from a model name or a config file."""
    if not spec.endswith('.py'):
        return dict(model_name=spec)
    from mmengine.config import Config
    model = Config.fromfile(spec).model
    clip = model.get('clip') or model.get('backbone')
    if not clip or 'model_name' not in clip:
        raise SystemExit(f'{spec}: no model.clip or model.backbone with a model_name')
    clip = clip.to_dict()
    out = dict(model_name=clip['model_name'], **clip.get('tower_options', {}) or {})
    out.update({k: clip[k] for k in ('residual_attention', 'conv_branch', 'window_attention') if clip.get(k)})
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('model', help='open_clip / clipself model name, or a config file naming one')
    p.add_argument('checkpoint', help='CLIP weights (any format build_clip reads)')
    p.add_argument('--calib-dir', required=True, help='folder of calibration images')
    p.add_argument('--calib', type=int, default=32, help='number of calibration images (default 32)')
    p.add_argument('--bits', default='8', help="8, 6, 4 (every layer) or 'mixed' (Greedy MP under --budget)")
    p.add_argument('--budget', type=float, help="image-tower size budget in MB for --bits mixed")
    p.add_argument('--dense-size', type=int, help='dense-path input size for calibration (default 4x the crop size)')
    p.add_argument('--out', required=True, help='output .safetensors')
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    bits = a.bits if a.bits == 'mixed' else int(a.bits) if a.bits.isdigit() else a.bits
    if bits == 'mixed' and a.budget is None:
        p.error('--bits mixed needs --budget MB')
    try:
        args = _model_args(a.model)
        model = build_clip(pretrained=a.checkpoint, **args)
        paths = calibration_images(a.calib_dir, a.calib)
        calibrate = make_calibrate(model, paths, dense_size=a.dense_size or 4 * model.image_size[0])
        spec = quantize_clip(model, calibrate, bits=bits, budget_mb=a.budget)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')
    spec.update(calibration=dict(images=len(paths), folder=os.path.abspath(a.calib_dir)))
    save_safetensors(model.clip, a.out, model_name=model.model_name, extra=dict(quantization=spec))
    print(json.dumps(dict(out=a.out, tower_mb=round(spec['tower_mb'], 3), distance=spec['distance'],
                          bits={b: sum(v['bits'] == b for v in spec['layers'].values()) for b in (8, 6, 4)})))


if __name__ == '__main__':
    main()
