"""Pre-train the demo's tiny CLIP (EVA02-Small-8) on generated captioned shapes, seeded; writes fp16 safetensors.

    python tools/pretrain_tiny_clip.py --demo-recipe    # the shipped assets/demo_clip_eva02-small-8.safetensors
    python tools/pretrain_tiny_clip.py --out stage1.safetensors --steps 900                    # one stage
    python tools/pretrain_tiny_clip.py --init stage1.safetensors --stuff-p 0.2 --steps 300 --lr 2e-4
    python tools/pretrain_tiny_clip.py --demo-recipe --model SigLIP-Small-8 --loss sigmoid --out siglip.safetensors

The shipped file is the demo recipe's two stages (the second and third commands): shape captions from scratch,
then the background words on top. `make demo` uses it unless told to retrain. With `--loss sigmoid` the demo recipe
is the sigmoid loss's (clipself.demo.pretrain.SIGMOID_RECIPE: two stages at lr 3e-4, then the background words).
"""
import argparse

from clipself.demo.pretrain import pretrain_demo_clip, pretrain_tiny_clip


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
                   help='share of each batch replaced by background-only images captioned with the texture name '
                        '("a photo of the stripes.")')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--model', default='EVA02-Small-8', help='the tiny CLIP to pre-train (SigLIP-Small-8: SigLIP-style)')
    p.add_argument('--loss', default='clip', choices=['clip', 'sigmoid'],
                   help="clip: CLIP's softmax contrastive loss; sigmoid: SigLIP's pairwise sigmoid loss (with a logit bias)")
    p.add_argument('--init', default=None, help='continue from this CLIP file (e.g. the shape-only stage)')
    p.add_argument('--demo-recipe', action='store_true',
                   help="the demo recipe's stages of --loss (the shipped file's for clip; ignores the stage options "
                        'above but --out, --seed and --model)')
    a = p.parse_args(argv)
    if a.demo_recipe:
        pretrain_demo_clip(a.out, seed=a.seed, log=print, model_name=a.model, loss=a.loss)
        return
    pretrain_tiny_clip(a.out, model_name=a.model, steps=a.steps, batch_size=a.batch_size, lr=a.lr, pool=a.pool,
                       colour_p=a.colour_p, stuff_p=a.stuff_p, seed=a.seed, init=a.init, loss=a.loss, log=print)


if __name__ == '__main__':
    main()
