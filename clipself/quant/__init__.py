"""Post-training quantisation of CLIP image towers (MPTQ-ViT: SQ-b, OPT-m, Greedy MP) with fake quantisation.

Plain PyTorch; no mm* imports. ``tools/quantize.py`` is the command line.
"""
from .layers import LayerGroup, tower_groups
from .mptq import quantize_clip, tower_bytes

__all__ = ['quantize_clip', 'tower_bytes', 'tower_groups', 'LayerGroup']
