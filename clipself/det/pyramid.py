"""The simple feature pyramid of F-ViT / ViTDet: four single-scale ViT token maps -> strides p/4 .. 2p."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmdet.registry import MODELS

_BRANCHES = {4.0: 'up4', 2.0: 'up2', 1.0: None, 0.5: 'down2', 0.25: 'down4'}
DEFAULT_SCALE_FACTORS = (4.0, 2.0, 1.0, 0.5)


def pyramid_strides(patch: float, scale_factors: Sequence[float] = DEFAULT_SCALE_FACTORS) -> List[float]:
    """The five strides (px) after ``SimpleFeaturePyramid(scale_factors)`` + FPN on a patch-``patch`` ViT: one
    per pyramid map, then FPN's extra level (a stride-2 pool of the last): ``p/4 .. 4p`` by default."""
    return [patch / f for f in scale_factors] + [2 * patch / scale_factors[-1]]


@MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """Resample four ``[B, C, h, w]`` maps (all at the ViT stride p) by ``scale_factors``, by default
    ``(4, 2, 1, 0.5)``: strides p/4, p/2, p, 2p, as F-ViT and ViTDet do:

    - 4:    2x transposed conv, norm, GELU, 2x transposed conv;
    - 2:    2x transposed conv;
    - 1:    identity;
    - 0.5:  2x2 max-pool, stride 2; 0.25: 4x4 max-pool, stride 4 (odd grids keep their last row/column:
      ceil mode).

    Args:
        in_channels: the ViT width C (all four maps); the channel count is kept.
        norm_cfg: the norm between the two transposed convs of the x4 branch (``dict(type='SyncBN')`` in
            the published recipe, ``'BN'``/``'GN'``/``'LN2d'``...); None for no norm.
        scale_factors: one per map, strictly decreasing, from {4, 2, 1, 0.5, 0.25}. A small world can drop the
            costly x4 level: ``(2, 1, 0.5, 0.25)`` gives strides p/2 .. 4p (the necks' and heads' strides follow).
    Returns (forward): a tuple of four maps, e.g. for the default ``[B, C, 4h, 4w], [B, C, 2h, 2w],
    [B, C, h, w], [B, C, ceil(h / 2), ceil(w / 2)]``.
    """

    def __init__(self, *, in_channels: int, norm_cfg: Optional[dict] = None,
                 scale_factors: Sequence[float] = DEFAULT_SCALE_FACTORS, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        factors = tuple(float(f) for f in scale_factors)
        if (len(factors) != 4 or any(f not in _BRANCHES for f in factors)
                or any(a <= b for a, b in zip(factors, factors[1:]))):
            raise ValueError(f'SimpleFeaturePyramid scale_factors must be 4 strictly decreasing values from '
                             f'{sorted(_BRANCHES, reverse=True)}, got {tuple(scale_factors)}')
        c = in_channels
        self.in_channels, self.scale_factors = c, factors
        self._branches = [_BRANCHES[f] for f in factors]  # module names stay those of the default layout
        for name in self._branches:
            if name == 'up4':
                self.up4 = nn.Sequential(
                    nn.ConvTranspose2d(c, c, kernel_size=2, stride=2),
                    build_norm_layer(norm_cfg, c)[1] if norm_cfg else nn.Identity(),
                    nn.GELU(),
                    nn.ConvTranspose2d(c, c, kernel_size=2, stride=2),
                )
            elif name == 'up2':
                self.up2 = nn.ConvTranspose2d(c, c, kernel_size=2, stride=2)
            elif name == 'down2':
                self.down2 = nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)
            elif name == 'down4':
                self.down4 = nn.MaxPool2d(kernel_size=4, stride=4, ceil_mode=True)

    def forward(self, feats: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        if len(feats) != 4:
            raise ValueError(f'SimpleFeaturePyramid takes 4 maps (one per ViT tap), got {len(feats)}')
        for f in feats:
            if f.dim() != 4 or f.shape[1] != self.in_channels:
                raise ValueError(f'expected [B, {self.in_channels}, h, w] maps, got {tuple(f.shape)}')
        return tuple(f if name is None else getattr(self, name)(f) for f, name in zip(feats, self._branches))
