"""ViTAEv2's parallel convolution module (Zhang et al., "ViTAEv2: Vision Transformer Advanced by Exploring
Inductive Bias for Image Recognition and Beyond", arXiv 2202.10108) beside the attention of chosen blocks.

ViTAEv2's normal cell adds, to the attention branch, a convolution branch run on the block input laid out as
an image: three 3x3 grouped convolutions with BatchNorm + SiLU between them; its output joins the residual
stream before the MLP: ``x = x + attn(norm1(x)) + pcm(x); x = x + mlp(norm2(x))``. Here the convolutions are
depth-wise (groups = tower width), run on the patch-token grid (any ``h x w``, padding 1), leave the CLS token
untouched, and the last convolution starts at zero, so a pretrained CLIP starts unchanged bit for bit and the
branch learns during distillation.
"""
from typing import Sequence, Tuple

import torch
import torch.nn as nn

Grid = Tuple[int, int]


class ConvBranch(nn.Module):
    """``[B, 1 + h*w, C]`` block input -> ``[B, 1 + h*w, C]`` addition to the attention branch (CLS row 0).

    Args:
        width: the tower width C.
        hidden_ratio: channels of the middle layer as a multiple of C (ViTAEv2 uses the MLP ratio; 1 keeps
            the branch at ``~ 27 C`` weights).
    """

    def __init__(self, *, width: int, hidden_ratio: int = 1):
        super().__init__()
        if int(hidden_ratio) != hidden_ratio or hidden_ratio < 1:
            raise ValueError(f'conv_branch.hidden_ratio must be a positive integer, got {hidden_ratio}')
        hidden = width * int(hidden_ratio)
        self.layers = nn.Sequential(
            nn.Conv2d(width, hidden, 3, padding=1, groups=width), nn.BatchNorm2d(hidden), nn.SiLU(),
            nn.Conv2d(hidden, width, 3, padding=1, groups=width), nn.BatchNorm2d(width), nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=1, groups=width))
        self.reset_output()

    def reset_output(self) -> None:
        """Zero the last convolution: the branch then adds exactly 0."""
        nn.init.zeros_(self.layers[-1].weight)
        nn.init.zeros_(self.layers[-1].bias)

    def forward(self, x: torch.Tensor, grid: Grid) -> torch.Tensor:
        b, n, c = x.shape
        h, w = grid
        if n != 1 + h * w:
            raise ValueError(f'conv branch: {n} tokens do not make CLS + a {h}x{w} grid')
        patches = x[:, 1:].transpose(1, 2).reshape(b, c, h, w)  # shape: [B, C, h, w]
        y = self.layers(patches).flatten(2).transpose(1, 2)  # shape: [B, h*w, C]
        return torch.cat([y.new_zeros(b, 1, c), y], dim=1)


def check_blocks(blocks: Sequence[int], num_blocks: int) -> Tuple[int, ...]:
    """Block indices (negative allowed) as sorted non-negative ones; a ``ValueError`` for indices outside the
    tower."""
    if isinstance(blocks, (int, str)) or not len(blocks):
        raise ValueError(f'conv_branch.blocks must be a non-empty list of block indices, got {blocks!r}')
    bad = [i for i in blocks if not isinstance(i, int) or not -num_blocks <= i < num_blocks]
    if bad:
        raise ValueError(f'conv_branch.blocks {bad} do not exist: the tower has {num_blocks} blocks '
                         f'(0..{num_blocks - 1})')
    return tuple(sorted({i % num_blocks for i in blocks}))
