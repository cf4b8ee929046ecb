"""The ``make demo`` application (``tools/demo_pipeline.py``): CLIPSelf end to end on a generated world, on a CPU,
with no downloads. Built on the library; nothing in the library imports it.

- :mod:`.run`: :func:`run_demo`, the pipeline (generated data, region classification before / after, three
  distillation variants, F-ViT on the original and the distilled CLIP, report and pictures);
- :mod:`.stages`: each stage through the real configs and runner; :mod:`.scheduler`: independent runs in
  parallel processes; :mod:`.plots`, :mod:`.report`: pictures and ``report.md``;
- :mod:`.figures`: the figures the README quotes (``docs/demo_results.json``) against a run's ``results.json``;
- :mod:`.pretrain`: contrastive pre-training of the demo's tiny CLIP (``tools/pretrain_tiny_clip.py``);
- :mod:`.settings`: the demo's CLIP, world size and variants.
"""
from .run import run_demo
from .settings import DEMO_CLIP, MODEL

__all__ = ['run_demo', 'DEMO_CLIP', 'MODEL']
