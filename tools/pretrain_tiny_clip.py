"""Pre-train the demo's tiny CLIP (EVA02-Small-8) on generated captioned shapes, seeded; writes fp16 safetensors.

    python tools/pretrain_tiny_clip.py [--out assets/demo_clip_eva02-small-8.safetensors] [--steps 900]

The shipped file was made with the defaults; `make demo` uses it unless told to retrain.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from clipself.demo_pretrain import pretrain_tiny_clip  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='assets/demo_clip_eva02-small-8.safetensors')
    p.add_argument('--steps', type=int, default=900)
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--pool', type=int, default=8000, help='number of generated training images')
    p.add_argument('--colour-p', type=float, default=0.0,
                   help='probability that a caption names the colour too ("a red triangle")')
    p.add_argument('--stuff-p', type=float, default=0.0,
                   help='probability that a caption names the background texture instead ("a photo of the stripes.")')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--init', default=None, help='continue from this CLIP file (e.g. the shape-only stage)')
    a = p.parse_args(argv)
    pretrain_tiny_clip(a.out, steps=a.steps, batch_size=a.batch_size, lr=a.lr, pool=a.pool, colour_p=a.colour_p,
                       stuff_p=a.stuff_p, seed=a.seed, init=a.init)


if __name__ == '__main__':
    main()
