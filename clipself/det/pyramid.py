"""The simple feature pyramid of F-ViT / ViTDet: four single-scale ViT token maps -> strides p/4 .. 2p."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmdet.registry import MODELS


@MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """Resample four ``[B, C, h, w]`` maps (all at the ViT stride p) to strides p/4, p/2, p, 2p.

    - map 0 -> p/4: 2x transposed conv, norm, GELU, 2x transposed conv;
    - map 1 -> p/2: 2x transposed conv;
    - map 2 -> p:   identity;
    - map 3 -> 2p:  2x2 max-pool, stride 2 (an odd grid keeps its last row/column: ceil mode).

    Args:
        in_channels: the ViT width C (all four maps); the channel count is kept.
        norm_cfg: the norm between the two transposed convs of the p/4 branch (``dict(type='SyncBN')`` in
            the published recipe, ``'BN'``/``'GN'``/``'LN2d'``...); None for no norm.
    Returns (forward): a tuple of four maps ``[B, C, 4h, 4w], [B, C, 2h, 2w], [B, C, h, w],
    [B, C, ceil(h / 2), ceil(w / 2)]``.
    """

    def __init__(self, *, in_channels: int, norm_cfg: Optional[dict] = None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        c = in_channels
        self.in_channels = c
        self.up4 = nn.Sequential(
            nn.ConvTranspose2d(c, c, kernel_size=2, stride=2),
            build_norm_layer(norm_cfg, c)[1] if norm_cfg else nn.Identity(),
            nn.GELU(),
            nn.ConvTranspose2d(c, c, kernel_size=2, stride=2),
        )
        self.up2 = nn.ConvTranspose2d(c, c, kernel_size=2, stride=2)
        self.down2 = nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)

    def forward(self, feats: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        if len(feats) != 4:
            raise ValueError(f'SimpleFeaturePyramid takes 4 maps (one per ViT tap), got {len(feats)}')
        for f in feats:
            if f.dim() != 4 or f.shape[1] != self.in_channels:
                raise ValueError(f'expected [B, {self.in_channels}, h, w] maps, got {tuple(f.shape)}')
        return (self.up4(feats[0]), self.up2(feats[1]), feats[2], self.down2(feats[3]))
