"""Run an open_clip image tower at any input size, with CLIPSelf's attention-free last block.

A tower adapter holds references to the modules of an open_clip ``visual`` (it owns no weights) and
exposes the steps every dense use needs: embed the patches (position encodings resized to the grid),
run block ``i`` (global attention, torch SDPA inside), run a block WITHOUT query-key attention
(``x + proj(v(norm1(x)))`` then the MLP), and apply the final norm + projection to tokens.

Options from the literature (ReViT residual attention, ViTAEv2 convolution branches) live in a
:class:`clipself.models.variants.TowerVariants` attached to the ``visual``; blocks they concern run as
``x + attention branch [+ conv branch]``, then ``x + MLP branch`` (:meth:`DenseTower.attn_branch`,
:meth:`DenseTower.mlp_branch`, :meth:`DenseTower.value_branch`).

Three families are supported:
- :class:`EvaTower`: open_clip's timm-based EVA02 towers (``timm.models.eva.Eva``, RoPE + abs pos embed);
- :class:`OpenAITower`: open_clip's own ``VisionTransformer`` (OpenAI CLIP ViTs, LAION ViTs, ...);
- :class:`clipself.models.siglip.SigLIPTower`: SigLIP / SigLIP2 (no CLS token, attention-pooling head).
"""
from abc import ABC, abstractmethod
from functools import partial
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from timm.layers import apply_rot_embed_cat

from .eva_block import fast_attention, fast_block, fast_mlp, fusable_attention, rope_tables, supports_fast_block
from .pos_embed import GridCache, eva_rope, resize_pos_embed
from .variants import get_variants
from .windows import window_partition, window_unpartition

Grid = Tuple[int, int]


class DenseTower(ABC):
    """Common driver; subclasses implement :meth:`embed`, :meth:`block`, :meth:`attn_branch`,
    :meth:`mlp_branch`, :meth:`value_branch`, :meth:`head`. Instances are plain objects (not modules):
    parameters live in the open_clip model."""

    patch_size: Tuple[int, int]
    pretrain_grid: Grid
    width: int
    grad_checkpointing: bool = False
    window_size: int = 0            # > 0: blocks in ``window_blocks`` attend within ws x ws token windows
    window_blocks: frozenset = frozenset()
    num_prefix_tokens: int = 1      # tokens before the patch tokens (the CLS token); SigLIP towers have none

    def set_window_attention(self, window_size: int = 0, blocks: Sequence[int] = ()) -> None:
        """Local window attention in the given blocks (``window_size=0``: global attention everywhere)."""
        n = len(self.blocks)
        bad = [i for i in blocks if not -n <= i < n]
        if bad:
            raise ValueError(f'window blocks {bad} outside the {n} blocks')
        if window_size < 0 or (blocks and window_size == 0):
            raise ValueError(f'window_size must be > 0 with window blocks, got {window_size}')
        self.window_size, self.window_blocks = int(window_size), frozenset(i % n for i in blocks)

    @property
    def num_blocks(self) -> int:
        return len(self.blocks)

    def grid_for(self, image_hw: Sequence[int]) -> Grid:
        """Token grid of an input of ``image_hw`` pixels: ``floor(H/p) x floor(W/p)``."""
        h, w = image_hw
        gh, gw = h // self.patch_size[0], w // self.patch_size[1]
        if gh < 1 or gw < 1:
            raise ValueError(f'input of {h}x{w} px is smaller than one {self.patch_size} patch')
        return gh, gw

    def forward_tokens(self, images: torch.Tensor, *, dense: bool,
                       out_indices: Optional[Sequence[int]] = None, last_block=None):
        """Run the tower.

        Args:
            images: ``[B, 3, H, W]`` normalised pixels, any H, W >= patch size.
            dense: if True the last block runs without query-key attention (CLIPSelf's dense path).
            out_indices: block indices whose outputs are also returned (``[B, 1 + h*w, C]`` each).
            last_block: with ``dense``, a callable ``(tower, i, x, ctx, grid) -> x`` run as the last block instead
                of :meth:`block_without_attn` (:class:`clipself.models.last_block.LastBlock`).
        Returns:
            ``(tokens [B, 1 + h*w, C], grid (h, w), [intermediate tokens ...])``; token 0 is CLS.
        """
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f'images must be [B, 3, H, W], got {tuple(images.shape)}')
        x, grid, ctx = self.embed(images)
        wanted = set(out_indices or ())
        bad = [i for i in wanted if not -self.num_blocks <= i < self.num_blocks]
        if bad:
            raise ValueError(f'out_indices {bad} outside the {self.num_blocks} blocks')
        wanted = {i % self.num_blocks for i in wanted}
        outs: List[torch.Tensor] = []
        last = self.num_blocks - 1
        variants = get_variants(self.visual)
        residual = variants is not None and variants.residual_active()
        scores, scores_windowed = None, None  # ReViT: the last attending block's mixed scores and their layout
        for i in range(self.num_blocks):
            windowed = bool(self.window_size) and i in self.window_blocks
            custom_last = dense and i == last and last_block is not None  # a training-free last block replaces it
            if variants is not None and not custom_last and (residual or variants.conv_for(i) is not None):
                attn_free = dense and i == last
                fn = partial(variants.block, self, grid=grid, windowed=windowed and not attn_free,
                             attn_free=attn_free, residual=residual)
                prev = scores if scores_windowed == windowed else None  # carried only within one layout
                x, scores = self._run(fn, i, x, ctx, prev)
                scores_windowed = windowed
                if i in wanted:
                    outs.append(x)
                continue
            if dense and i == last:
                fn = self.block_without_attn if last_block is None else partial(last_block, self, grid=grid)
            elif windowed:
                fn = partial(self._windowed_block, grid=grid)
            else:
                fn = self.block
            x = self._run(fn, i, x, ctx)
            if i in wanted:
                outs.append(x)
        return x, grid, outs

    def _run(self, fn, i: int, x: torch.Tensor, *args):
        if self.grad_checkpointing and torch.is_grad_enabled() and x.requires_grad:
            return checkpoint(fn, i, x, *args, use_reentrant=False)
        return fn(i, x, *args)

    def _windowed_block(self, i: int, x: torch.Tensor, ctx, *, grid) -> torch.Tensor:
        win, mask, padded = window_partition(x, grid, self.window_size)
        win = self.block(i, win, self.window_ctx(ctx), attn_mask=mask)
        return window_unpartition(win, grid, padded, self.window_size)

    def window_ctx(self, ctx):
        """The block context for a window (EVA: RoPE of the ``ws x ws`` window grid)."""
        return ctx

    @abstractmethod
    def embed(self, images: torch.Tensor):
        """``[B, 3, H, W]`` -> ``(tokens [B, 1 + h*w, C], grid (h, w), ctx)``; ctx is passed to blocks."""

    @abstractmethod
    def block(self, i: int, x: torch.Tensor, ctx, attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Block ``i`` as trained: ``[B, N, C] -> [B, N, C]``; ``attn_mask`` (bool, True = attend) for padding."""

    def block_without_attn(self, i: int, x: torch.Tensor, ctx) -> torch.Tensor:
        """Block ``i`` with ``x + proj(v(norm1(x)))`` in place of attention, then its MLP."""
        x = x + self.value_branch(i, x)
        return x + self.mlp_branch(i, x)

    @abstractmethod
    def attn_branch(self, i: int, x: torch.Tensor, ctx, attn_mask: Optional[torch.Tensor] = None,
                    attend=None) -> torch.Tensor:
        """What block ``i``'s attention adds to ``x [B, N, C]`` (norm, attention, projection, layer scale).
        ``attend(q, k, v, attn_mask, dropout_p)`` (``[B, heads, N, d]`` each, RoPE applied) replaces SDPA."""

    @abstractmethod
    def mlp_branch(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """What block ``i``'s MLP adds to ``x [B, N, C]`` (norm, MLP, layer scale)."""

    @abstractmethod
    def value_branch(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """The attention-free replacement of :meth:`attn_branch`: ``proj(v(norm1(x)))`` (layer-scaled)."""

    @abstractmethod
    def head(self, tokens: torch.Tensor) -> torch.Tensor:
        """Final norm + projection to the CLIP space: ``[..., C] -> [..., D]`` (not normalised)."""

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        """The image embedding from the last block's tokens ``[B, N, C] -> [B, D]`` (not normalised): the CLS token's
        :meth:`head`."""
        return self.head(tokens[:, 0])


class EvaTower(DenseTower):
    """open_clip ``TimmModel`` wrapping a timm ``Eva`` trunk with token pooling (EVA02-CLIP)."""

    def __init__(self, visual: nn.Module):
        trunk = visual.trunk
        if trunk.global_pool != 'token' or trunk.num_prefix_tokens != 1 or trunk.attn_pool is not None:
            raise ValueError('dense features need an Eva trunk with one CLS token and token pooling, got '
                             f'global_pool={trunk.global_pool!r}, prefix tokens={trunk.num_prefix_tokens}')
        if not all(type(b).__name__ == 'EvaBlock' for b in trunk.blocks):
            raise ValueError('only pre-norm EvaBlock towers are supported')
        self.visual, self.trunk, self.blocks = visual, trunk, trunk.blocks
        self.patch_size = tuple(trunk.patch_embed.patch_size)
        self.pretrain_grid = tuple(trunk.patch_embed.grid_size)
        self.width = trunk.embed_dim
        self._pos_cache = GridCache()
        self._rope_cache = {}  # (grid, device) -> [h*w, 2*head_dim]; RoPE has no weights
        self._rope_tables = {}  # id(table) -> (table, (cos, signed sin)): the fused form of a cached table
        self._fast = [supports_fast_block(b) for b in trunk.blocks]  # clipself.models.eva_block covers the block

    def embed(self, images):
        t = self.trunk
        x = t.patch_embed.proj(images)  # shape: [B, C, h, w]; remainder pixels dropped by the stride
        grid = (x.shape[-2], x.shape[-1])
        x = t.patch_embed.norm(x.flatten(2).transpose(1, 2))  # shape: [B, h*w, C]
        x = torch.cat([t.cls_token.expand(x.shape[0], -1, -1).to(x.dtype), x], dim=1)
        if t.pos_embed is not None:
            pe = self._pos_cache.get(t.pos_embed, grid,
                                     lambda: resize_pos_embed(t.pos_embed, self.pretrain_grid, grid))
            x = x + pe.to(x.dtype)
        x = t.norm_pre(t.pos_drop(x))
        rope = None
        if t.rope is not None:
            rope = self._rope(grid, x.device)
        return x, grid, rope

    def block(self, i, x, rope, attn_mask=None):
        if self._fast[i] and fusable_attention(self.blocks[i].attn):
            return fast_block(self.blocks[i], x, self._tables(i, rope), attn_mask)
        return self.blocks[i](x, rope=rope, attn_mask=attn_mask)

    def _tables(self, i, rope):
        """The RoPE table ``rope`` as :func:`~clipself.models.eva_block.rope_tables` of block ``i``'s attention."""
        if rope is None:
            return None
        attn = self.blocks[i].attn
        make = partial(rope_tables, rope, attn.num_prefix_tokens, getattr(attn, 'rotate_half', False))
        if torch.compiler.is_compiling():
            return make()
        hit = self._rope_tables.get(id(rope))
        if hit is None or hit[0] is not rope:  # the entry holds the table, so its id is not reused meanwhile
            hit = self._rope_tables[id(rope)] = (rope, make())
        return hit[1]

    def window_ctx(self, rope):
        # a window is a grid of its own: positions arange(ws) / ws * 16, as for any grid
        return None if rope is None else self._rope((self.window_size, self.window_size), rope.device)

    def _rope(self, grid, device) -> torch.Tensor:
        key = (tuple(grid), device)
        table = self._rope_cache.get(key)
        if table is None:
            if len(self._rope_cache) >= 16:
                self._rope_cache.clear()
                self._rope_tables.clear()
            table = self._rope_cache[key] = eva_rope(self.trunk.rope, key[0], device)
        return table

    def attn_branch(self, i, x, rope, attn_mask=None, attend=None):
        blk = self.blocks[i]
        if self._fast[i] and fusable_attention(blk.attn):
            out = fast_attention(blk.attn, blk.norm1(x), self._tables(i, rope), attn_mask, attend)
        elif attend is None:  # timm's own attention: the same operations as the block's forward
            out = blk.attn(blk.norm1(x), rope=rope, attn_mask=attn_mask)
        else:
            out = self._attention(blk.attn, blk.norm1(x), rope, attn_mask, attend)
        if blk.gamma_1 is not None:
            out = blk.gamma_1 * out
        return blk.drop_path1(out)

    @staticmethod
    def _attention(attn: nn.Module, y: torch.Tensor, rope, attn_mask, attend) -> torch.Tensor:
        """timm ``EvaAttention``'s forward with ``attend`` in place of SDPA (same q/k/v, RoPE, sub-LN, gate)."""
        b, n, _ = y.shape
        gate = attn.gate(y).sigmoid() if getattr(attn, 'gate', None) is not None else None
        if attn.qkv is not None:
            if attn.q_bias is None:
                qkv = attn.qkv(y)
            else:
                bias = torch.cat((attn.q_bias, attn.k_bias, attn.v_bias))
                qkv = attn.qkv(y) + bias if getattr(attn, 'qkv_bias_separate', False) \
                    else F.linear(y, attn.qkv.weight, bias)
            q, k, v = qkv.reshape(b, n, 3, attn.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        else:
            q, k, v = (p(y).reshape(b, n, attn.num_heads, -1).transpose(1, 2)
                       for p in (attn.q_proj, attn.k_proj, attn.v_proj))  # shape: [B, heads, N, d]
        q, k = attn.q_norm(q), attn.k_norm(k)
        if rope is not None:
            npt, half = attn.num_prefix_tokens, getattr(attn, 'rotate_half', False)
            q = torch.cat([q[:, :, :npt], apply_rot_embed_cat(q[:, :, npt:], rope, half=half)], 2).type_as(v)
            k = torch.cat([k[:, :, :npt], apply_rot_embed_cat(k[:, :, npt:], rope, half=half)], 2).type_as(v)
        out = attend(q, k, v, attn_mask, attn.attn_drop.p if attn.training else 0.0)
        out = attn.norm(out.transpose(1, 2).reshape(b, n, -1))  # shape: [B, N, heads * d]
        if gate is not None:
            out = out * gate
        return attn.proj_drop(attn.proj(out))

    def mlp_branch(self, i, x):
        blk = self.blocks[i]
        out = fast_mlp(blk.mlp, blk.norm2(x))
        if blk.gamma_2 is not None:
            out = blk.gamma_2 * out
        return blk.drop_path2(out)

    def value_branch(self, i, x):
        blk = self.blocks[i]
        attn = blk.attn
        y = blk.norm1(x)
        if attn.v_proj is not None:
            v = attn.v_proj(y)
        else:  # fused qkv: the V slice
            c = attn.qkv.weight.shape[0] // 3
            v = F.linear(y, attn.qkv.weight[2 * c:], attn.v_bias)
        if attn.gate is not None:
            v = v * attn.gate(y).sigmoid()
        out = attn.proj_drop(attn.proj(attn.norm(v)))
        if blk.gamma_1 is not None:
            out = blk.gamma_1 * out
        return blk.drop_path1(out)

    def head(self, tokens):
        t = self.trunk
        return self.visual.head(t.head(t.head_drop(t.fc_norm(t.norm(tokens)))))


class OpenAITower(DenseTower):
    """open_clip ``VisionTransformer`` (OpenAI-style: ``conv1``, ``ln_pre``, ``resblocks``, ``ln_post``, ``proj``)."""

    def __init__(self, visual: nn.Module):
        if visual.attn_pool is not None or visual.pool_type != 'tok' or visual.final_ln_after_pool:
            raise ValueError('dense features need a VisionTransformer with CLS-token pooling and no '
                             'attentional pooler')
        blocks = visual.transformer.resblocks
        if not all(type(b).__name__ == 'ResidualAttentionBlock' for b in blocks):
            raise ValueError('only standard ResidualAttentionBlock towers are supported')
        if not all(b.attn.batch_first for b in blocks):
            raise ValueError('expected batch-first attention blocks (open_clip >= 2.24)')
        self.visual, self.blocks = visual, blocks
        self.patch_size = tuple(visual.patch_size)
        self.pretrain_grid = tuple(visual.grid_size)
        self.width = visual.conv1.out_channels
        self._pos_cache = GridCache()

    def embed(self, images):
        v = self.visual
        x = v.conv1(images)  # shape: [B, C, h, w]
        grid = (x.shape[-2], x.shape[-1])
        x = x.flatten(2).transpose(1, 2)  # shape: [B, h*w, C]
        cls = v.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
        pe = self._pos_cache.get(v.positional_embedding, grid,
                                 lambda: resize_pos_embed(v.positional_embedding, self.pretrain_grid, grid))
        x = x + pe.to(x.dtype)
        return v.ln_pre(x), grid, None  # no patch dropout: the grid must stay whole

    def block(self, i, x, ctx, attn_mask=None):
        x = x + self.attn_branch(i, x, ctx, attn_mask)
        return x + self.mlp_branch(i, x)

    def attn_branch(self, i, x, ctx, attn_mask=None, attend=None):
        # attention written out with SDPA: nn.MultiheadAttention's inference fast path builds the full
        # [N, N] attention matrix on CPU (768 MiB per head group at 1024 px for B/16)
        blk = self.blocks[i]
        mha = blk.attn
        b, n, c = x.shape
        h = mha.num_heads
        q, k, v = F.linear(blk.ln_1(x), mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, n, h, c // h).transpose(1, 2) for t in (q, k, v))  # shape: [B, h, N, C/h]
        drop = mha.dropout if self.visual.training else 0.0
        if attend is None:
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=drop)
        else:
            a = attend(q, k, v, attn_mask, drop)
        a = a.transpose(1, 2).reshape(b, n, c)
        return blk.ls_1(mha.out_proj(a))

    def mlp_branch(self, i, x):
        blk = self.blocks[i]
        return blk.ls_2(blk.mlp(blk.ln_2(x)))

    def value_branch(self, i, x):
        blk = self.blocks[i]
        mha = blk.attn
        c = mha.embed_dim
        bias = mha.in_proj_bias[2 * c:] if mha.in_proj_bias is not None else None
        v = F.linear(blk.ln_1(x), mha.in_proj_weight[2 * c:], bias)  # the V slice of in_proj
        return blk.ls_1(mha.out_proj(v))

    def head(self, tokens):
        v = self.visual
        x = v.ln_post(tokens)
        return x @ v.proj if v.proj is not None else x


def make_tower(visual: nn.Module) -> DenseTower:
    """The adapter for an open_clip ``model.visual``; a clear error for towers without a dense path."""
    trunk = getattr(visual, 'trunk', None)
    if trunk is not None and type(trunk).__name__ == 'Eva':
        return EvaTower(visual)
    if type(visual).__name__ == 'VisionTransformer' and hasattr(visual, 'conv1'):
        return OpenAITower(visual)
    from .siglip import SigLIPTower, is_siglip_visual  # it subclasses DenseTower
    if is_siglip_visual(visual):
        return SigLIPTower(visual)
    kind = type(trunk).__name__ if trunk is not None else type(visual).__name__
    raise ValueError(f'no dense-feature path for image tower {kind}: supported are open_clip '
                     'VisionTransformer (OpenAI-style ViTs), timm Eva (EVA02-CLIP) and timm ViTs with an attention-'
                     'pooling head (SigLIP, SigLIP2) towers')
