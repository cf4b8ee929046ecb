"""Last-block variants of the training-free segmentation literature, for any dense tower.

CLIPSelf's dense path (``DenseCLIP.encode_dense``) runs the last block without query-key attention. The
training-free segmenters change only that block; each variant here takes the tokens entering the last block
``x [B, 1 + h*w, C]`` (CLS first) and returns the tokens leaving it, which then go through the final norm and
projection as usual:

- ``'maskclip'`` (MaskCLIP; CLIPSelf's own definition): ``x + proj(v)``, then the MLP: exactly
  ``tower.block_without_attn``;
- ``'sclip'`` (SCLIP, correlative self-attention): ``x + proj((softmax(q q^T s) + softmax(k k^T s)) v)``, then
  the MLP;
- ``'clearclip'`` (ClearCLIP): ``proj(softmax(q q^T s) v)``: no residual, no MLP;
- ``'naclip'`` (NACLIP): ``proj(softmax(k k^T s + G) v)``, no residual, no MLP; ``G`` is a Gaussian of the
  2-D distance between patch positions, ``G[i, j] = exp(-|pos_i - pos_j|^2 / (2 std^2))`` (std 5 tokens), zero in
  the CLS row and column.

``s = head_dim ** -0.5``; attention per head over all tokens (CLS included); ``q, k, v`` are the block's own
projections of ``norm1(x)`` (EVA02: q and k of the patch tokens rotated by the 2-D RoPE of the grid, as in the
block's trained attention; the attention sub-LN before ``proj``). ``proj(.)`` includes the block's layer-scale
where it has one. Plain PyTorch; works with :class:`~clipself.models.towers.EvaTower` and
:class:`~clipself.models.towers.OpenAITower`.

    dense = model.encode_dense(images, last_block=LastBlock('naclip'))
"""
from typing import Dict, Tuple

import torch
import torch.nn.functional as F

from .towers import DenseTower, EvaTower, OpenAITower

LAST_BLOCKS = ('maskclip', 'sclip', 'clearclip', 'naclip')


class LastBlock:
    """A last-block variant, callable as the tower's last block: ``(tower, i, x [B, N, C], ctx, grid) -> [B, N, C]``.

    Args:
        kind: one of :data:`LAST_BLOCKS`.
        gaussian_std: NACLIP's neighbourhood std in tokens (only for ``'naclip'``; 5 in the paper).
    """

    def __init__(self, kind: str = 'maskclip', *, gaussian_std: float = 5.0):
        if kind not in LAST_BLOCKS:
            raise ValueError(f'unknown last block {kind!r}: use one of {", ".join(LAST_BLOCKS)}')
        if kind == 'naclip' and not gaussian_std > 0:
            raise ValueError(f'gaussian_std must be > 0, got {gaussian_std}')
        self.kind = kind
        self.gaussian_std = float(gaussian_std)
        self._bias_cache: Dict[tuple, torch.Tensor] = {}

    def __repr__(self) -> str:
        extra = f', gaussian_std={self.gaussian_std}' if self.kind == 'naclip' else ''
        return f'LastBlock({self.kind!r}{extra})'

    def __call__(self, tower: DenseTower, i: int, x: torch.Tensor, ctx, grid: Tuple[int, int]) -> torch.Tensor:
        if self.kind == 'maskclip':
            return tower.block_without_attn(i, x, ctx)
        q, k, v = block_qkv(tower, i, x, ctx)  # shape: [B, heads, N, head_dim] each
        scale = q.shape[-1] ** -0.5
        if self.kind == 'sclip':
            attn = ((q @ q.transpose(-2, -1)) * scale).softmax(-1) + ((k @ k.transpose(-2, -1)) * scale).softmax(-1)
        elif self.kind == 'clearclip':
            attn = ((q @ q.transpose(-2, -1)) * scale).softmax(-1)
        else:  # naclip
            bias = self.neighbourhood_bias(grid, x.device, x.dtype)  # shape: [N, N]
            attn = ((k @ k.transpose(-2, -1)) * scale + bias).softmax(-1)
        out = block_out_proj(tower, i, attn @ v)  # shape: [B, N, C]
        if self.kind != 'sclip':
            return out
        return block_mlp(tower, i, x + out)

    def neighbourhood_bias(self, grid: Tuple[int, int], device=None, dtype=torch.float32) -> torch.Tensor:
        """NACLIP's additive attention bias ``[1 + h*w, 1 + h*w]`` (CLS row/column zero), cached per grid."""
        key = (tuple(grid), device, dtype)
        bias = self._bias_cache.get(key)
        if bias is None:
            h, w = grid
            rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                                        indexing='ij')
            pos = torch.stack([rows.flatten(), cols.flatten()], dim=-1)  # shape: [h*w, 2]
            d2 = torch.cdist(pos, pos).square()
            g = torch.exp(-d2 / (2 * self.gaussian_std ** 2))
            bias = torch.zeros(h * w + 1, h * w + 1, dtype=torch.float64)
            bias[1:, 1:] = g
            if len(self._bias_cache) >= 8:
                self._bias_cache.clear()
            bias = self._bias_cache[key] = bias.to(device=device, dtype=dtype)
        return bias


def _heads(t: torch.Tensor, heads: int) -> torch.Tensor:
    b, n, c = t.shape
    return t.reshape(b, n, heads, c // heads).transpose(1, 2)  # shape: [B, heads, N, C/heads]


def block_qkv(tower: DenseTower, i: int, x: torch.Tensor, ctx) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The query, key and value of block ``i`` for tokens ``x [B, N, C]`` (the block's own ``norm1`` first), each
    ``[B, heads, N, head_dim]``; EVA02: RoPE applied to q and k of the patch tokens, q/k norms where present."""
    if isinstance(tower, EvaTower):
        from timm.layers import apply_rot_embed_cat
        attn = tower.blocks[i].attn
        y = tower.blocks[i].norm1(x)
        if attn.qkv is not None:
            bias = None
            if attn.q_bias is not None:
                bias = torch.cat([attn.q_bias, attn.k_bias, attn.v_bias])
            q, k, v = F.linear(y, attn.qkv.weight, bias).chunk(3, dim=-1)
        else:
            q, k, v = attn.q_proj(y), attn.k_proj(y), attn.v_proj(y)
        q, k, v = (_heads(t, attn.num_heads) for t in (q, k, v))
        q, k = attn.q_norm(q), attn.k_norm(k)
        if ctx is not None:  # RoPE table of the grid: prefix (CLS) tokens are not rotated
            npt = attn.num_prefix_tokens
            half = getattr(attn, 'rotate_half', False)
            q = torch.cat([q[:, :, :npt], apply_rot_embed_cat(q[:, :, npt:], ctx, half=half)], dim=2).type_as(v)
            k = torch.cat([k[:, :, :npt], apply_rot_embed_cat(k[:, :, npt:], ctx, half=half)], dim=2).type_as(v)
        return q, k, v
    if isinstance(tower, OpenAITower):
        blk = tower.blocks[i]
        mha = blk.attn
        q, k, v = F.linear(blk.ln_1(x), mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
        return tuple(_heads(t, mha.num_heads) for t in (q, k, v))
    raise TypeError(f'no last-block variants for {type(tower).__name__}')


def block_out_proj(tower: DenseTower, i: int, heads_out: torch.Tensor) -> torch.Tensor:
    """The attention branch's output of block ``i`` from the per-head mix ``[B, heads, N, head_dim]``: heads
    merged, (EVA02: the gate is not supported, the sub-LN applied,) output projection, layer-scale -> ``[B, N, C]``."""
    b, h, n, d = heads_out.shape
    o = heads_out.transpose(1, 2).reshape(b, n, h * d)
    blk = tower.blocks[i]
    if isinstance(tower, EvaTower):
        if blk.attn.gate is not None:
            raise ValueError('last-block variants do not support gated EVA attention')
        o = blk.attn.proj(blk.attn.norm(o))
        return blk.gamma_1 * o if blk.gamma_1 is not None else o
    return blk.ls_1(blk.attn.out_proj(o))


def block_mlp(tower: DenseTower, i: int, x: torch.Tensor) -> torch.Tensor:
    """``x + mlp(norm2(x))`` of block ``i`` (layer-scale where present): ``[B, N, C] -> [B, N, C]``."""
    blk = tower.blocks[i]
    if isinstance(tower, EvaTower):
        out = blk.mlp(blk.norm2(x))
        return x + (blk.gamma_2 * out if blk.gamma_2 is not None else out)
    return x + blk.ls_2(blk.mlp(blk.ln_2(x)))

