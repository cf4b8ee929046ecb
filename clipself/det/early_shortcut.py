"""ExMobileViT's early-feature shortcut (Yang et al., "ExMobileViT: Lightweight Classifier Extension for Mobile
Vision Transformer", arXiv 2309.01310) for F-ViT's RoI classifier.

ExMobileViT average-pools the feature maps of earlier stages, passes each through a small projection,
concatenates them with the last stage's pooled features and classifies the concatenation. Here, for every RoI,
the token maps of chosen earlier backbone blocks are pooled (RoIAlign to 1x1, ``aligned=True``, adaptive
sampling, ``spatial_scale = 1/patch``), each goes through ``LayerNorm -> Linear(C, channels)``, and the
concatenation is projected back to the CLIP embedding space and added to the RoI head's region embedding
before the text-embedding classifier:

    emb' = emb + W [proj_1(pool(tap_1)); ...; proj_k(pool(tap_k))] + b

which is the concatenation ``[emb; proj_1; ...; proj_k]`` projected by ``[I, W]``. ``W`` and ``b`` start at
zero, so training starts from the current head's outputs exactly.
"""
from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn
from torchvision.ops import roi_align


class FeaturesWithTaps(tuple):
    """The FPN maps (a tuple, as mmdet's heads take them) that also carries the backbone token maps they came
    from: ``taps`` ``{block index: [B, C, H/p, W/p]}``, for :class:`EarlyShortcut`."""

    taps: Dict[int, torch.Tensor]

    def __new__(cls, levels, taps: Dict[int, torch.Tensor]):
        obj = super().__new__(cls, levels)
        obj.taps = taps
        return obj


class EarlyShortcut(nn.Module):
    """Per-RoI early-feature shortcut: ``(taps, rois [K, 5]) -> [K, embed_dim]`` to add to the region embedding.

    Args:
        blocks: backbone block indices whose token maps are pooled; each must be one of the backbone's
            ``out_indices`` (the detector checks this at build time).
        in_channels: the tower width C of those maps.
        embed_dim: the region-embedding size (the bbox head's ``fc_out_channels``); filled in by the head.
        channels: output size of each block's projection.
    """

    def __init__(self, *, blocks: Sequence[int], in_channels: int, embed_dim: int, channels: int = 64):
        super().__init__()
        if isinstance(blocks, int) or not len(blocks):
            raise ValueError(f'early_shortcut.blocks must be a non-empty list of backbone blocks, got {blocks!r}')
        if channels < 1 or in_channels < 1:
            raise ValueError(f'early_shortcut: in_channels and channels must be positive, got {in_channels}, '
                             f'{channels}')
        self.blocks: Tuple[int, ...] = tuple(int(b) for b in blocks)
        self.in_channels = int(in_channels)
        self.stride = None  # the token-map stride (patch size), set by the detector at build time
        self.proj = nn.ModuleList(nn.Sequential(nn.LayerNorm(in_channels), nn.Linear(in_channels, channels))
                                  for _ in self.blocks)
        self.fuse = nn.Linear(channels * len(self.blocks), embed_dim)
        nn.init.zeros_(self.fuse.weight)
        nn.init.zeros_(self.fuse.bias)

    def check_backbone(self, *, out_indices: Sequence[int], num_blocks: int, width: int, patch_size: int) -> None:
        """Build-time check against the backbone; sets the stride. ``ValueError`` naming what does not fit."""
        normalised = []
        for b in self.blocks:
            if not -num_blocks <= b < num_blocks:
                raise ValueError(f'early_shortcut.blocks: block {b} does not exist in the {num_blocks}-block tower')
            normalised.append(b % num_blocks)
        missing = [b for b in normalised if b not in set(out_indices)]
        if missing:
            raise ValueError(f'early_shortcut.blocks {missing} are not tapped by the backbone: add them to '
                             f'backbone.out_indices {list(out_indices)}')
        if self.in_channels != width:
            raise ValueError(f'early_shortcut.in_channels={self.in_channels}, but the tower has width {width}')
        self.blocks = tuple(normalised)
        self.stride = int(patch_size)

    def forward(self, taps: Dict[int, torch.Tensor], rois: torch.Tensor) -> torch.Tensor:
        """Args: taps ``{block: [B, C, h, w]}``; rois ``[K, 5]`` (batch index, x1, y1, x2, y2 in input pixels).
        Returns ``[K, embed_dim]``."""
        if self.stride is None:
            raise RuntimeError('EarlyShortcut.stride is unset: the detector sets it (check_backbone) at build time')
        pooled = []
        for block, proj in zip(self.blocks, self.proj):
            if block not in taps:
                raise KeyError(f'early_shortcut: no backbone token map of block {block} (have {sorted(taps)})')
            f = roi_align(taps[block], rois.to(taps[block].dtype), output_size=1, spatial_scale=1.0 / self.stride,
                          sampling_ratio=-1, aligned=True).flatten(1)  # shape: [K, C]
            pooled.append(proj(f))  # shape: [K, channels]
        return self.fuse(torch.cat(pooled, dim=1))  # shape: [K, embed_dim]
