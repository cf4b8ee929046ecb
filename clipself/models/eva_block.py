"""A faster forward of timm's EVA02 block (``EvaBlock`` with ``EvaAttention`` and SwiGLU), same weights, same
outputs up to float rounding.

What timm's block does in several passes is done here in fewer:
- q, k and v come from ONE matmul (the three projections' weights concatenated per call; timm's EVA02 towers keep
  them separate, ``qkv_fused=False``), so the state dict is untouched;
- RoPE is applied to q and k together, as ``x * cos + pair_swap(x) * sin`` with tables that already carry the
  rotation's signs and cover the prefix (CLS) token with ``cos = 1, sin = 0`` (no slicing and re-concatenating
  of the prefix, no ``stack`` of the rotated halves);
- SwiGLU's gate and value projections (``fc1_g``, ``fc1_x``) are one matmul.

Blocks this module does not cover (fused ``qkv`` with a separate bias add, gated attention, q/k norms, GLU MLPs
of other layouts, ``AttentionRope``) report False from :func:`supports_fast_block` and keep timm's forward. A
covered block whose projections were swapped for other modules (quantised linears) or carry forward hooks
(calibration recorders) falls back too, at each call (:func:`plain_linears`): the fused matmuls read the
weights and would skip those modules' own forward.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def supports_fast_block(blk: nn.Module) -> bool:
    """Whether :func:`fast_block` reproduces ``blk``'s forward (a timm ``EvaBlock`` of the EVA02-CLIP kind)."""
    attn = blk.attn
    if type(blk).__name__ != 'EvaBlock' or type(attn).__name__ != 'EvaAttention':
        return False
    if getattr(attn, 'gate', None) is not None or getattr(attn, 'qkv_bias_separate', False):
        return False
    if not (isinstance(attn.q_norm, nn.Identity) and isinstance(attn.k_norm, nn.Identity)):
        return False
    if attn.qkv is None and (attn.k_proj.bias is not None or (attn.q_proj.bias is None) != (attn.v_proj.bias is None)):
        return False
    return type(blk.mlp).__name__ in ('SwiGLU', 'Mlp', 'GluMlp')


def plain_linears(*modules: Optional[nn.Module]) -> bool:
    """Whether every module given is a plain ``nn.Linear`` (or None) without forward hooks: reading its weights
    and calling ``F.linear`` then does exactly what calling it does."""
    return all(m is None or (type(m) is nn.Linear and not m._forward_hooks and not m._forward_pre_hooks)
               for m in modules)


def fusable_attention(attn: nn.Module) -> bool:
    """Whether :func:`qkv_projection` may replace the calls of ``attn``'s q/k/v projections right now."""
    if attn.qkv is not None:
        return plain_linears(attn.qkv)
    return plain_linears(attn.q_proj, attn.k_proj, attn.v_proj)


def rope_tables(rope: torch.Tensor, num_prefix_tokens: int, half: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """timm's concatenated RoPE table ``[h*w, 2 * d]`` (sin then cos) -> ``(cos, signed_sin)``, each
    ``[P + h*w, 1, 1, d]`` (P prefix tokens, unrotated): ``x * cos + pair_swap(x) * signed_sin`` equals timm's
    ``apply_rot_embed_cat`` on the grid tokens and leaves the prefix tokens as they are."""
    sin, cos = rope.chunk(2, dim=-1)  # shape: [h*w, d] each
    d = sin.shape[-1]
    if half:  # rotate_half(x) = [-x2, x1] = pair_swap(x) * [-1 ... -1, 1 ... 1]
        sign = torch.cat([-torch.ones(d // 2), torch.ones(d // 2)])
    else:  # rot(x) = [-x1, x0, -x3, x2, ...] = pair_swap(x) * [-1, 1, -1, 1, ...]
        sign = torch.tensor([-1.0, 1.0]).repeat(d // 2)
    sign = sign.to(sin.device, sin.dtype)
    cos = torch.cat([cos.new_ones(num_prefix_tokens, d), cos])
    sin = torch.cat([sin.new_zeros(num_prefix_tokens, d), sin * sign])
    return cos[:, None, None], sin[:, None, None]  # shape: [P + h*w, 1, 1, d]


def pair_swap(x: torch.Tensor, half: bool) -> torch.Tensor:
    """Swap the rotated pairs of the last dimension: ``(x0, x1), (x2, x3) ...`` (interleaved layout) or the two
    halves (``half``)."""
    if half:
        return x.roll(x.shape[-1] // 2, dims=-1)
    return x.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)


def qkv_projection(attn: nn.Module, y: torch.Tensor) -> torch.Tensor:
    """``y [B, N, C]`` -> ``[B, N, 3, heads, d]``: q, k, v of a timm ``EvaAttention`` in one matmul."""
    b, n, _ = y.shape
    if attn.qkv is not None:
        weight = attn.qkv.weight
        bias = None if attn.q_bias is None else torch.cat((attn.q_bias, attn.k_bias, attn.v_bias))
    else:
        weight = torch.cat((attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight))
        bias = None
        if attn.q_proj.bias is not None:  # timm's EVA attention has no key bias
            bias = torch.cat((attn.q_proj.bias, torch.zeros_like(attn.q_proj.bias), attn.v_proj.bias))
    return F.linear(y, weight, bias).view(b, n, 3, attn.num_heads, -1)  # shape: [B, N, 3, heads, d]


def fast_attention(attn: nn.Module, y: torch.Tensor, tables, attn_mask: Optional[torch.Tensor] = None,
                   attend=None) -> torch.Tensor:
    """timm ``EvaAttention.forward(y, rope, attn_mask)`` with ``tables = rope_tables(rope, ...)`` (or None):
    ``[B, N, C] -> [B, N, C]``. ``attend(q, k, v, attn_mask, dropout_p)`` replaces SDPA if given."""
    b, n, _ = y.shape
    qkv = qkv_projection(attn, y)
    if tables is not None:
        cos, sin = tables
        qk = qkv[:, :, :2]  # shape: [B, N, 2, heads, d]
        qk = (qk * cos + pair_swap(qk, getattr(attn, 'rotate_half', False)) * sin).to(qkv.dtype)
        q, k = qk.unbind(2)
    else:
        q, k = qkv[:, :, 0], qkv[:, :, 1]
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), qkv[:, :, 2].transpose(1, 2)  # shape: [B, heads, N, d]
    drop = attn.attn_drop.p if attn.training else 0.0
    if attend is None:
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=drop)
    else:
        out = attend(q, k, v, attn_mask, drop)
    out = attn.norm(out.transpose(1, 2).reshape(b, n, -1))  # shape: [B, N, heads * d]
    return attn.proj_drop(attn.proj(out))


def fast_mlp(mlp: nn.Module, y: torch.Tensor) -> torch.Tensor:
    """timm's ``SwiGLU`` (``fc1_g``, ``fc1_x`` as one matmul) or its other MLPs unchanged: ``[B, N, C] -> [B, N, C]``."""
    if type(mlp).__name__ != 'SwiGLU' or not plain_linears(mlp.fc1_g, mlp.fc1_x):
        return mlp(y)
    w = torch.cat((mlp.fc1_g.weight, mlp.fc1_x.weight))
    bias = None if mlp.fc1_g.bias is None else torch.cat((mlp.fc1_g.bias, mlp.fc1_x.bias))
    gate, h = F.linear(y, w, bias).chunk(2, dim=-1)  # shape: [B, N, hidden] each
    h = mlp.drop1(mlp.act(gate) * h)
    return mlp.drop2(mlp.fc2(mlp.norm(h)))


def fast_block(blk: nn.Module, x: torch.Tensor, tables, attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``EvaBlock.forward(x, rope=rope, attn_mask=attn_mask)``: ``[B, N, C] -> [B, N, C]``."""
    a = fast_attention(blk.attn, blk.norm1(x), tables, attn_mask)
    x = x + blk.drop_path1(a if blk.gamma_1 is None else blk.gamma_1 * a)
    m = fast_mlp(blk.mlp, blk.norm2(x))
    return x + blk.drop_path2(m if blk.gamma_2 is None else blk.gamma_2 * m)
