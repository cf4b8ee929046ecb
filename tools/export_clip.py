"""Export the CLIP of a CLIPSelf training checkpoint: the ensemble ``alpha * student + (1 - alpha) * teacher``
as safetensors that `build_clip` (and the detector / segmenter configs) load directly.

    python tools/export_clip.py work_dirs/clipself_eva02-b16_coco-patches_6e/epoch_6.pth OUT.safetensors [--alpha 0.7]
"""
import argparse
import os
import sys

import torch

from clipself.distill import export_clip
from clipself.engine.patches import allow_mmengine_checkpoints


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('checkpoint', help='CLIPSelf training checkpoint (.pth written by tools/train.py)')
    p.add_argument('out', help='output .safetensors')
    p.add_argument('--alpha', type=float, default=None,
                   help='student weight (default: the one the run used: 0.7 for B/16, 0.95 for L/14)')
    a = p.parse_args(argv)
    allow_mmengine_checkpoints()  # the run's logging state in the checkpoint, loaded with weights_only=True
    ckpt = torch.load(a.checkpoint, map_location='cpu', weights_only=True)
    meta = ckpt.get('meta', {})
    model_name = meta.get('clip_model_name')
    if not model_name:
        sys.exit(f'{a.checkpoint}: no clip_model_name in its meta; is it a CLIPSelf checkpoint written by tools/train.py?')
    alpha = a.alpha if a.alpha is not None else meta.get('clip_alpha', 0.7)
    export_clip(ckpt['state_dict'], a.out, model_name=model_name, alpha=alpha,
                extra=dict(source=os.path.basename(a.checkpoint), epoch=meta.get('epoch'), iter=meta.get('iter')),
                dense_mode=meta.get('clip_dense_mode'))
    print(f'wrote {a.out}: {model_name}, alpha {alpha} (epoch {meta.get("epoch")}, iter {meta.get("iter")})')


if __name__ == '__main__':
    main()
