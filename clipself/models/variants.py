"""ViT variants from the literature as options of the dense towers, off unless configured:

- ``residual_attention=dict(alpha=...)``: ReViT's residual attention (:mod:`.residual_attention`);
- ``conv_branch=dict(blocks=[...], hidden_ratio=1)``: ViTAEv2's parallel convolution branch
  (:mod:`.conv_branch`).

Their weights live in one :class:`TowerVariants` module attached to the open_clip image tower as
``visual.clipself_variants`` (state dict keys ``visual.clipself_variants.*``), so they train, export and load
with the CLIP; the tower adapter (:mod:`.towers`) consults it in :meth:`DenseTower.forward_tokens`.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn

from .conv_branch import ConvBranch, check_blocks
from .residual_attention import ResidualAttention, residual_attention
from .windows import window_partition, window_unpartition

VARIANTS_ATTR = 'clipself_variants'
STATE_PREFIX = f'visual.{VARIANTS_ATTR}.'


def _options(cfg, name: str, allowed: Tuple[str, ...]) -> dict:
    if not isinstance(cfg, dict):
        raise ValueError(f'{name} must be a dict (or None: off), got {cfg!r}')
    unknown = sorted(set(cfg) - set(allowed))
    if unknown:
        raise ValueError(f'{name}: unknown keys {unknown}; expected some of {list(allowed)}')
    return dict(cfg)


class TowerVariants(nn.Module):
    """The options' weights and the block that runs them.

    Args:
        num_blocks, width: of the tower.
        residual_attention: ``dict(alpha=a)`` (``a`` in ``[0, 1]``) or None.
        conv_branch: ``dict(blocks=[i, ...], hidden_ratio=1)`` or None.
    """

    def __init__(self, *, num_blocks: int, width: int, residual_attention: Optional[dict] = None,
                 conv_branch: Optional[dict] = None):
        super().__init__()
        self.residual: Optional[ResidualAttention] = None
        if residual_attention is not None:
            self.residual = ResidualAttention(**_options(residual_attention, 'residual_attention', ('alpha',)))
        self.conv = nn.ModuleDict()
        if conv_branch is not None:
            cfg = _options(conv_branch, 'conv_branch', ('blocks', 'hidden_ratio'))
            if 'blocks' not in cfg:
                raise ValueError('conv_branch needs blocks=[...] (the blocks that get a convolution branch)')
            for i in check_blocks(cfg.pop('blocks'), num_blocks):
                self.conv[str(i)] = ConvBranch(width=width, **cfg)

    def conv_for(self, i: int) -> Optional[ConvBranch]:
        return self.conv[str(i)] if str(i) in self.conv else None

    def residual_active(self) -> bool:
        """Whether this forward mixes scores (False at ``alpha == 1`` when no gradient is wanted for it)."""
        return self.residual is not None and not self.residual.is_identity()

    @torch.no_grad()
    def reset_to_identity(self) -> None:
        """``alpha = 1`` and zero convolution outputs: the tower computes the unchanged CLIP (a CLIPSelf
        teacher). The keys stay, so student and teacher state dicts still blend key by key."""
        if self.residual is not None:
            self.residual.alpha.fill_(1.0)
        for branch in self.conv.values():
            branch.reset_output()

    def block(self, tower, i: int, x: torch.Tensor, ctx, prev: Optional[torch.Tensor], *, grid, windowed: bool,
              attn_free: bool, residual: bool) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Block ``i`` of ``tower`` with the options: ``x [B, 1 + h*w, C] -> (x, mixed scores or None)``.

        ``x + attention branch (residual scores with ``prev``) + conv branch (on the full grid of the block
        input, split into the same windows as the attention)``, then ``x + MLP branch``. ``attn_free``: the
        dense path's last block (value branch, no scores).
        """
        conv = self.conv_for(i)
        extra = conv(x, grid) if conv is not None else None  # shape: [B, 1 + h*w, C], CLS row 0
        y, mask, c = x, None, ctx
        if windowed:
            ws = tower.window_size
            y, mask, padded = window_partition(x, grid, ws)  # shape: [B*nW, 1 + ws*ws, C]
            c = tower.window_ctx(ctx)
            if extra is not None:
                extra = window_partition(extra, grid, ws)[0]
        scores = None
        if attn_free:
            branch = tower.value_branch(i, y)
        elif residual:
            out = {}

            def attend(q, k, v, attn_mask, dropout_p):
                a, out['scores'] = residual_attention(q, k, v, alpha=self.residual.alpha, prev=prev,
                                                      attn_mask=attn_mask, dropout_p=dropout_p)
                return a
            branch = tower.attn_branch(i, y, c, mask, attend=attend)
            scores = out['scores']
        else:
            branch = tower.attn_branch(i, y, c, mask)
        y = y + branch
        if extra is not None:
            y = y + extra
        y = y + tower.mlp_branch(i, y)
        if windowed:
            y = window_unpartition(y, grid, padded, tower.window_size)
        return y, scores

    def extra_repr(self) -> str:
        return f'conv_blocks={sorted(int(k) for k in self.conv)}'


def get_variants(visual: nn.Module) -> Optional[TowerVariants]:
    """The :class:`TowerVariants` attached to an open_clip image tower, or None."""
    return getattr(visual, VARIANTS_ATTR, None)


def attach_variants(visual: nn.Module, *, num_blocks: int, width: int, residual_attention: Optional[dict] = None,
                    conv_branch: Optional[dict] = None) -> Optional[TowerVariants]:
    """Build the configured options and attach them to ``visual`` (nothing when both are None)."""
    if residual_attention is None and conv_branch is None:
        return None
    if get_variants(visual) is not None:
        raise ValueError('this image tower already has variant options attached')
    variants = TowerVariants(num_blocks=num_blocks, width=width, residual_attention=residual_attention,
                             conv_branch=conv_branch)
    visual.add_module(VARIANTS_ATTR, variants)
    return variants
