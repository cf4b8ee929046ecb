"""Dense features of open_clip's SigLIP / SigLIP2 image towers (timm ViT trunk, attention-pooling head).

These towers have no CLS token: the image embedding is timm's ``AttentionPoolLatent`` over the patch tokens (a
learned latent query attends to ``kv(norm(x))``, then ``proj``, then ``x + mlp(norm(x))``), and open_clip's
``timm_proj`` (none for the released models). The dense path is the attention-free analogue of that head,
as CLIPSelf's dense path is of the last block:

- the patch tokens run through every trunk block as trained (global attention), at any grid (the absolute
  position embedding resized as for the other towers: bicubic, ``align_corners=False``, no antialiasing;
  :mod:`.pos_embed`);
- each token then goes through the trunk's final norm, the head's value projection (the V half of ``kv``) and
  output projection ``proj``, the head's residual MLP ``v + mlp(norm(v))``, ``fc_norm``/``head`` of the trunk
  (identities for SigLIP) and open_clip's projection.

Attention over a single key returns that key's value, so the dense feature of a one-token grid IS the pooled
embedding (:meth:`SigLIPTower.pool`). The head's latent query, its query projection and the K half of ``kv`` are
used by the pooled (crop) path only.

Not supported on these towers (clear errors): window attention, the ReViT / convolution-branch options and the
training-free last-block variants (they assume a CLS token at position 0).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .pos_embed import GridCache, resize_pos_embed
from .towers import DenseTower
from .variants import get_variants

# big_vision / open_clip normalisation of every SigLIP and SigLIP2 model (open_clip's INCEPTION_MEAN / _STD)
SIGLIP_MEAN = (0.5, 0.5, 0.5)
SIGLIP_STD = (0.5, 0.5, 0.5)


def is_siglip_config(model_cfg: Optional[dict]) -> bool:
    """Whether an open_clip model config describes a SigLIP-family image tower: a timm trunk with the
    attention-pooling (``'map'``) head."""
    vision = (model_cfg or {}).get('vision_cfg', {})
    return bool(vision.get('timm_model_name')) and vision.get('timm_pool') == 'map'


def is_siglip_visual(visual: nn.Module) -> bool:
    """Whether an open_clip ``model.visual`` is a timm ``VisionTransformer`` with an attention-pooling head."""
    trunk = getattr(visual, 'trunk', None)
    return (trunk is not None and type(trunk).__name__ == 'VisionTransformer'
            and type(getattr(trunk, 'attn_pool', None)).__name__ == 'AttentionPoolLatent')


class SigLIPTower(DenseTower):
    """open_clip ``TimmModel`` wrapping a timm ``VisionTransformer`` with ``global_pool='map'`` (SigLIP, SigLIP2).

    Tokens are patch tokens only (``num_prefix_tokens == 0``): ``forward_tokens`` returns ``[B, h*w, C]``.
    ``dense`` does not change the trunk (every block attends); the attention-free part is :meth:`head`.
    """

    num_prefix_tokens = 0

    def __init__(self, visual: nn.Module):
        if not is_siglip_visual(visual):
            raise ValueError('SigLIPTower needs an open_clip TimmModel with a timm VisionTransformer trunk and an '
                             'AttentionPoolLatent head')
        trunk = visual.trunk
        pool = trunk.attn_pool
        if trunk.num_prefix_tokens != 0:
            raise ValueError(f'dense SigLIP features need a trunk without prefix tokens (CLS / registers), got '
                             f'{trunk.num_prefix_tokens}')
        if pool.latent_len != 1 or pool.pos_embed is not None or pool.pool != 'token':
            raise ValueError('dense SigLIP features need an attention-pooling head with one latent query, no position '
                             f'embedding and token pooling, got latent_len={pool.latent_len}, pool={pool.pool!r}')
        if not all(type(b).__name__ == 'Block' for b in trunk.blocks):
            raise ValueError('only pre-norm timm Block towers are supported')
        if trunk.pos_embed is None:
            raise ValueError('expected a learned absolute position embedding in the SigLIP trunk')
        if get_variants(visual) is not None:
            raise ValueError('the ReViT / convolution-branch options are not supported on SigLIP towers '
                             '(they assume a CLS token)')
        self.visual, self.trunk, self.blocks = visual, trunk, trunk.blocks
        self.patch_size = tuple(trunk.patch_embed.patch_size)
        self.pretrain_grid = tuple(trunk.patch_embed.grid_size)
        self.width = trunk.embed_dim
        self._pos_cache = GridCache()

    def set_window_attention(self, window_size: int = 0, blocks=()) -> None:
        if window_size or blocks:
            raise ValueError('window attention is not supported on SigLIP towers (no CLS token to replicate into '
                             'the windows)')

    def forward_tokens(self, images: torch.Tensor, *, dense: bool, out_indices=None, last_block=None):
        """Every block as trained whatever ``dense`` says (the attention-free step is the head's, :meth:`head`).
        Returns ``(tokens [B, h*w, C], grid (h, w), [intermediates [B, h*w, C] ...])``."""
        if last_block is not None:
            raise ValueError(f'last-block variants ({last_block!r}) are not defined for SigLIP towers: their dense '
                             "path replaces the attention-pooling head, not the last block")
        return super().forward_tokens(images, dense=False, out_indices=out_indices)

    def embed(self, images):
        t = self.trunk
        x = t.patch_embed.proj(images)  # shape: [B, C, h, w]; remainder pixels dropped by the stride
        grid = (x.shape[-2], x.shape[-1])
        x = t.patch_embed.norm(x.flatten(2).transpose(1, 2))  # shape: [B, h*w, C]
        pe = self._pos_cache.get(t.pos_embed, grid,
                                 lambda: resize_pos_embed(t.pos_embed, self.pretrain_grid, grid, num_prefix_tokens=0))
        x = x + pe.to(x.dtype)
        return t.norm_pre(t.pos_drop(x)), grid, None  # no patch dropout: the grid must stay whole

    def block(self, i, x, ctx, attn_mask=None):
        return self.blocks[i](x, attn_mask=attn_mask)

    def attn_branch(self, i, x, ctx, attn_mask=None, attend=None):
        blk = self.blocks[i]
        if attend is None:
            return blk.drop_path1(blk.ls1(blk.attn(blk.norm1(x), attn_mask=attn_mask)))
        attn = blk.attn
        y = blk.norm1(x)
        b, n, _ = y.shape
        q, k, v = attn.qkv(y).reshape(b, n, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        q, k = attn.q_norm(q), attn.k_norm(k)  # shape: [B, heads, N, d] each
        out = attend(q, k, v, attn_mask, attn.attn_drop.p if attn.training else 0.0)
        out = attn.norm(out.transpose(1, 2).reshape(b, n, -1))  # shape: [B, N, heads * d]
        if attn.gate is not None:
            out = out * attn.gate(y).sigmoid()
        return blk.drop_path1(blk.ls1(attn.proj_drop(attn.proj(out))))

    def mlp_branch(self, i, x):
        blk = self.blocks[i]
        return blk.drop_path2(blk.ls2(blk.mlp(blk.norm2(x))))

    def value_branch(self, i, x):
        blk = self.blocks[i]
        attn = blk.attn
        y = blk.norm1(x)
        c = attn.qkv.weight.shape[0] // 3
        bias = attn.qkv.bias[2 * c:] if attn.qkv.bias is not None else None
        v = attn.norm(F.linear(y, attn.qkv.weight[2 * c:], bias))  # the V slice of qkv
        if attn.gate is not None:
            v = v * attn.gate(y).sigmoid()
        return blk.drop_path1(blk.ls1(attn.proj_drop(attn.proj(v))))

    def head(self, tokens):
        """The attention-free pooling head on every token: ``[..., C] -> [..., D]`` (not normalised):
        ``v = proj(V(norm(x)))``, ``v + mlp(norm(v))``, then ``fc_norm``, the trunk's head and open_clip's
        projection."""
        t = self.trunk
        pool = t.attn_pool
        y = t.norm(tokens)
        c = pool.kv.weight.shape[0] // 2
        bias = pool.kv.bias[c:] if pool.kv.bias is not None else None
        x = pool.proj_drop(pool.proj(F.linear(y, pool.kv.weight[c:], bias)))  # the V half of kv, heads in order
        if pool.mlp is not None:
            x = x + pool.mlp(pool.norm(x))
        return self.visual.head(t.head(t.head_drop(t.fc_norm(x))))

    def pool(self, tokens):
        """The image embedding as trained: attention pooling over all tokens ``[B, N, C] -> [B, D]``."""
        return self.visual.head(self.trunk.forward_head(self.trunk.norm(tokens)))
