"""Position encodings resized to any token grid, the way the CLIPSelf reference does it.

Two details decide whether our dense features equal the reference implementation's:
- absolute position embeddings are resized bicubic with ``align_corners=False`` and WITHOUT antialiasing
  (timm's and open_clip's own resizers antialias, which moves the outputs by ~3e-3); the CLS entry is
  kept as it is;
- EVA02's 2-D rotary embeddings are rebuilt for the new grid with positions ``arange(n) / n * 16``
  (16 = the pre-training reference grid), first half of each head rotated by row, second by column.
"""
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from timm.layers import build_rotary_pos_embed

Grid = Tuple[int, int]


def resize_pos_embed(pos_embed: torch.Tensor, src_grid: Grid, dst_grid: Grid,
                     num_prefix_tokens: int = 1) -> torch.Tensor:
    """Resize a learned absolute position embedding to another token grid.

    Args:
        pos_embed: ``[P + h*w, C]`` or ``[1, P + h*w, C]``; the first ``P`` (prefix/CLS) rows are kept.
        src_grid: ``(h, w)`` the embedding was trained at.
        dst_grid: ``(H, W)`` wanted.
    Returns:
        Same layout as ``pos_embed``, with ``P + H*W`` rows.
    """
    batched = pos_embed.dim() == 3
    pe = pos_embed[0] if batched else pos_embed
    if tuple(src_grid) == tuple(dst_grid):
        return pos_embed
    prefix, grid = pe[:num_prefix_tokens], pe[num_prefix_tokens:]
    c = grid.shape[-1]
    if grid.shape[0] != src_grid[0] * src_grid[1]:
        raise ValueError(f'position embedding has {grid.shape[0]} grid entries, expected '
                         f'{src_grid[0]}x{src_grid[1]}')
    grid = grid.T.reshape(1, c, *src_grid)  # shape: [1, C, h, w]
    grid = F.interpolate(grid.float(), size=tuple(dst_grid), mode='bicubic', align_corners=False,
                         antialias=False).to(pe.dtype)
    grid = grid.reshape(c, -1).T  # shape: [H*W, C]
    out = torch.cat([prefix, grid], dim=0)
    return out[None] if batched else out


def eva_rope(rope: torch.nn.Module, grid: Grid, device=None) -> torch.Tensor:
    """EVA02 rotary embedding for a ``grid = (H, W)`` token grid, as timm's ``apply_rot_embed_cat`` takes it.

    ``rope`` is the timm ``RotaryEmbeddingCat`` of the tower: its frequency settings (head dim, temperature,
    reference grid) are reused; only the grid changes.
    Returns:
        ``[H*W, 2 * head_dim]``: sin then cos, interleaved pairs.
    """
    sin, cos = build_rotary_pos_embed(
        feat_shape=list(grid), dim=rope.dim, temperature=rope.temperature, in_pixels=rope.in_pixels,
        ref_feat_shape=rope.ref_feat_shape, grid_offset=rope.grid_offset, grid_indexing=rope.grid_indexing,
        rotate_half=rope.rotate_half, device=device)
    return torch.cat([sin, cos], dim=-1)


class GridCache:
    """Per-grid cache of derived tensors (resized position embeddings, RoPE tables).

    An entry is keyed by the grid, the device/dtype and the version counter of the source tensor, so
    loading new weights or an optimiser step on the source invalidates it. Nothing is cached while the
    source requires grad and autograd is on (the result must then stay in the graph).
    """

    def __init__(self, max_entries: int = 8):
        self.max_entries = max_entries
        self._store: Dict[tuple, torch.Tensor] = {}

    def get(self, source: torch.Tensor, grid: Grid, compute):
        if source.requires_grad and torch.is_grad_enabled():
            return compute()
        key = (tuple(grid), source.device, source.dtype, source.data_ptr(), source._version)
        hit = self._store.get(key)
        if hit is None:
            if len(self._store) >= self.max_entries:
                self._store.pop(next(iter(self._store)))
            hit = self._store[key] = compute().detach()
        return hit

    def __deepcopy__(self, memo):  # copies of a model start with an empty cache
        return GridCache(self.max_entries)
