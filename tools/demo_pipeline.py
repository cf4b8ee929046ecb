"""`make demo`: CLIPSelf end to end on a generated world, on a CPU, with no downloads (see clipself/demo.py).

    python tools/demo_pipeline.py --out work_dirs/demo [--seed 0] [--fast] [--retrain-clip] [--clip PATH]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from clipself.demo import run_demo  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='work_dirs/demo', help='output folder')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--fast', action='store_true', help='the small variant the test suite runs (about a minute)')
    p.add_argument('--retrain-clip', action='store_true',
                   help='pre-train the tiny CLIP again (the shipped recipe, about 17 minutes on 2 cores) instead of using '
                        'the shipped assets/ file')
    p.add_argument('--clip', default=None, help='another EVA02-Small-8 checkpoint to distil')
    a = p.parse_args(argv)
    run_demo(a.out, seed=a.seed, fast=a.fast, retrain_clip=a.retrain_clip, clip=a.clip)


if __name__ == '__main__':
    main()
