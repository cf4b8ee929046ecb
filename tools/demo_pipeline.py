"""`make demo`: CLIPSelf end to end on a generated world, on a CPU, with no downloads (see clipself/demo/).

    python tools/demo_pipeline.py --out work_dirs/demo [--seed 0] [--fast] [--retrain-clip] [--clip PATH]
                                  [--all-variants] [--regionclip] [--update-docs] [--tower {eva02,siglip}]

--tower siglip runs the same pipeline on a SigLIP-style tiny CLIP (SigLIP-Small-8: no CLS token, attention-pooling
head, pre-trained with the sigmoid loss by the run itself, or --clip a file of that model); its figures are not
compared with the documented (EVA02) ones.

At the end the run's figures are compared with those the README quotes (docs/demo_results.json): a warning lists
each one that differs; --update-docs rewrites docs/demo_results.json and the README's table from this run.
"""
import argparse
import logging

from clipself.demo import run_demo
from clipself.demo.figures import check_figures, update_docs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='work_dirs/demo', help='output folder')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--fast', action='store_true', help='the small variant the test suite runs (about a minute)')
    p.add_argument('--retrain-clip', action='store_true',
                   help='pre-train the tiny CLIP again (the shipped recipe, about 17 minutes on 2 cores) instead of '
                        'using the shipped assets/ file')
    p.add_argument('--clip', default=None, help='another checkpoint of the tower to distil (EVA02-Small-8 / SigLIP-Small-8)')
    p.add_argument('--tower', default='eva02', choices=['eva02', 'siglip'],
                   help='eva02: the shipped EVA02-style CLIP; siglip: a SigLIP-style one (sigmoid loss), see above')
    p.add_argument('--all-variants', action='store_true',
                   help='also distil with the image-level term (proposals + loss_image, about 650 s more)')
    p.add_argument('--regionclip', action='store_true',
                   help='also distil the RegionCLIP-style baseline on the same scenes and budget and report its rois '
                        'top-1 beside CLIPSelf\'s (one more run: longer than make demo)')
    p.add_argument('--update-docs', action='store_true',
                   help="write this run's figures into docs/demo_results.json and the README's table")
    a = p.parse_args(argv)
    figures_log = logging.getLogger('clipself.demo.figures')  # the comparison's lines on the console
    figures_log.setLevel(logging.INFO)
    figures_log.addHandler(logging.StreamHandler())
    if a.update_docs and a.tower != 'eva02':
        p.error('--update-docs documents the default (eva02) tower only')
    res = run_demo(a.out, seed=a.seed, fast=a.fast, retrain_clip=a.retrain_clip, clip=a.clip, tower=a.tower,
                   all_variants=a.all_variants, regionclip=a.regionclip,
                   log=lambda line: print(line, flush=True))
    if a.update_docs:
        update_docs(res)
    else:
        check_figures(res)


if __name__ == '__main__':
    main()
