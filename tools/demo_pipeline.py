"""`make demo`: the clipself pipeline end to end on generated data, with no downloads (see clipself/demo.py).

    python tools/demo_pipeline.py --out work_dirs/demo [--seed 0] [--scenes 24] [--model EVA02-Tiny-8]
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
    p.add_argument('--scenes', type=int, default=24, help='number of generated scenes')
    p.add_argument('--model', default='EVA02-Tiny-8', help='open_clip / clipself model name')
    p.add_argument('--pretrained', default=None, help='checkpoint of that model (default: random weights)')
    a = p.parse_args(argv)
    run_demo(a.out, seed=a.seed, num_scenes=a.scenes, model_name=a.model, pretrained=a.pretrained)


if __name__ == '__main__':
    main()
