"""A plain, independent implementation of CLIPSelf's dense features, for tests and benchmarks.

What it is for:
- the yardstick the fast path (:mod:`clipself.models.towers` + :mod:`clipself.models.pos_embed`, used by
  ``DenseCLIP.encode_dense`` / ``encode_image``) is tested against: written from the specification
  (``docs/method.md`` section 1 and the EVA-CLIP RoPE formula), it calls neither clipself's tower/pos-embed
  code nor timm's attention/RoPE helpers, and reads only weights (from ``visual.state_dict()``) and a few
  hyper-parameters (heads, LayerNorm eps, patch size, activation) from the open_clip model;
- the "plain reference path" of ``benchmarks/bench_dense.py``: explicit ``softmax(q k^T * scale) v``
  attention materialising the ``[B, heads, N, N]`` matrix, nothing cached.
It is not meant for production use (slow, memory-hungry, no gradient checkpointing).

The definition (``images`` are ``[B, 3, H, W]`` normalised pixels, patch ``p``, grid ``h, w = H // p, W // p``;
remainder pixels on the right/bottom are dropped):
1. patch embedding as a matrix product on non-overlapping ``p x p`` patches; CLS token prepended;
2. absolute position embedding resized bicubic (``align_corners=False``, no antialiasing) from the
   pre-training grid to ``h x w``, the CLS row kept as it is, added to the tokens;
3. blocks 0..L-2 with global attention; EVA02 q/k of patch tokens (not CLS) rotated by the 2-D RoPE of
   :func:`eva_rope_tables`;
4. dense path: the last block is ``x = x + proj(v(norm1(x)))`` (EVA: v_proj + v bias, the attention
   sub-LN, proj; OpenAI-style: the V slice of ``in_proj``, ``out_proj``), then its MLP; image path: the last
   block attends like the others;
5. final norm and projection head on every token, L2-normalised; dense: patch tokens as ``[B, D, h, w]``,
   image: the CLS token as ``[B, D]``.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

Grid = Tuple[int, int]

__all__ = ['reference_encode_dense', 'reference_encode_image', 'reference_forward', 'eva_rope_tables',
           'resize_abs_pos_embed', 'rotate_pairs']


# -- position encodings -------------------------------------------------------------------------------

def resize_abs_pos_embed(pos_embed: torch.Tensor, src_grid: Grid, dst_grid: Grid) -> torch.Tensor:
    """``[1 + h0*w0, C]`` (CLS row first) -> ``[1 + h*w, C]``: the grid part resized bicubic,
    ``align_corners=False``, ``antialias=False``; the CLS row unchanged."""
    cls, grid = pos_embed[:1], pos_embed[1:]
    c = grid.shape[-1]
    if grid.shape[0] != src_grid[0] * src_grid[1]:
        raise ValueError(f'position embedding has {grid.shape[0]} grid rows after CLS, expected '
                         f'{src_grid[0]}x{src_grid[1]}')
    grid = grid.reshape(src_grid[0], src_grid[1], c).permute(2, 0, 1)[None]  # shape: [1, C, h0, w0]
    grid = F.interpolate(grid.float(), size=tuple(dst_grid), mode='bicubic', align_corners=False,
                         antialias=False).to(pos_embed.dtype)
    grid = grid[0].permute(1, 2, 0).reshape(dst_grid[0] * dst_grid[1], c)  # shape: [h*w, C]
    return torch.cat([cls, grid], dim=0)


def eva_rope_tables(grid: Grid, head_dim: int, *, theta: float = 10000.0,
                    ref_grid: Optional[float] = 16.0, device=None) -> Tuple[torch.Tensor, torch.Tensor]:
    """EVA02's 2-D rotary embedding for a ``grid = (h, w)``, from the EVA-CLIP formula.

    ``d = head_dim // 2``; ``freqs = 1 / theta ** (arange(0, d, 2) / d)``; positions per axis
    ``t = arange(n) / n * ref_grid`` (``ref_grid=None``: plain indices ``arange(n)``, what a naive port
    computes; only used as a negative control); angles ``t x freqs`` with every frequency repeated twice
    (interleaved pairs); the first ``d`` channels of a head use the ROW angle, the last ``d`` the COLUMN one.
    Returns:
        ``(sin, cos)``, each ``[h*w, head_dim]`` in row-major token order (fp32).
    """
    d = head_dim // 2
    freqs = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float32, device=device) / d)  # [d/2]

    def axis(n: int) -> torch.Tensor:
        t = torch.arange(n, dtype=torch.float32, device=device)
        if ref_grid is not None:
            t = t / n * ref_grid
        ang = t[:, None] * freqs[None, :]  # shape: [n, d/2]
        return torch.stack([ang, ang], dim=-1).reshape(n, d)  # (f0, f0, f1, f1, ...)

    h, w = grid
    rows = axis(h)[:, None, :].expand(h, w, d)
    cols = axis(w)[None, :, :].expand(h, w, d)
    ang = torch.cat([rows, cols], dim=-1).reshape(h * w, 2 * d)  # shape: [h*w, head_dim]
    return ang.sin(), ang.cos()


def rotate_pairs(x: torch.Tensor) -> torch.Tensor:
    """``(x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...)`` on the last dim (interleaved pairs)."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([-x1, x0], dim=-1).reshape(x.shape)


# -- primitives -------------------------------------------------------------------------------------

class _Weights:
    """The state dict of a ``visual`` tower plus the LayerNorm eps of each of its norms."""

    def __init__(self, visual: nn.Module):
        self.sd: Dict[str, torch.Tensor] = visual.state_dict()
        self.eps = {name: m.eps for name, m in visual.named_modules() if isinstance(m, nn.LayerNorm)}

    def has(self, key: str) -> bool:
        return key in self.sd

    def __getitem__(self, key: str) -> torch.Tensor:
        return self.sd[key]

    def get(self, key: str) -> Optional[torch.Tensor]:
        return self.sd.get(key)

    def ln(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """LayerNorm ``name`` over the last dim; identity when the tower has no such norm."""
        if not self.has(f'{name}.weight'):
            return x
        return F.layer_norm(x, x.shape[-1:], self[f'{name}.weight'], self.get(f'{name}.bias'), self.eps[name])

    def linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, self[f'{name}.weight'], self.get(f'{name}.bias'))


def _patchify(images: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]):
    """Non-overlapping patches times the conv weight: ``[B, 3, H, W] -> ([B, h*w, C], (h, w))``."""
    b, cin, hh, ww = images.shape
    c, _, ph, pw = weight.shape
    h, w = hh // ph, ww // pw
    if h < 1 or w < 1:
        raise ValueError(f'input of {hh}x{ww} px is smaller than one {ph}x{pw} patch')
    x = images[:, :, :h * ph, :w * pw].reshape(b, cin, h, ph, w, pw)
    x = x.permute(0, 2, 4, 1, 3, 5).reshape(b, h * w, cin * ph * pw)  # shape: [B, h*w, 3*ph*pw]
    x = x @ weight.reshape(c, -1).T
    return (x + bias if bias is not None else x), (h, w)


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    b, n, c = x.shape
    return x.reshape(b, n, heads, c // heads).transpose(1, 2)  # shape: [B, heads, N, c/heads]


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    b, heads, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, heads * d)


def _attention(q, k, v) -> torch.Tensor:
    """``softmax(q k^T * scale) v`` with the full ``[B, heads, N, N]`` matrix; scale = head_dim ** -0.5."""
    attn = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
    return attn.softmax(dim=-1) @ v


def _rope(x: torch.Tensor, sin: torch.Tensor, cos: torch.Tensor) -> torch.Tensor:
    """Rotate the patch tokens of ``x = [B, heads, 1 + h*w, head_dim]``; the CLS token is left alone."""
    cls, patches = x[:, :, :1], x[:, :, 1:]
    patches = patches * cos + rotate_pairs(patches) * sin
    return torch.cat([cls, patches.to(x.dtype)], dim=2)


# -- EVA02 (timm Eva inside open_clip's TimmModel) ------------------------------------------------------

def _eva_forward(visual, images, attention_free_last, rope_ref_grid):
    trunk = visual.trunk
    W = _Weights(visual)
    for unsupported in ('trunk.reg_token', 'trunk.blocks.0.attn.gate.weight', 'trunk.blocks.0.attn.q_norm.weight'):
        if W.has(unsupported):
            raise ValueError(f'reference path: {unsupported} is not part of EVA02-CLIP')
    heads = trunk.blocks[0].attn.num_heads
    x, grid = _patchify(images, W['trunk.patch_embed.proj.weight'], W.get('trunk.patch_embed.proj.bias'))
    x = W.ln(x, 'trunk.patch_embed.norm')
    x = torch.cat([W['trunk.cls_token'].expand(x.shape[0], -1, -1).to(x.dtype), x], dim=1)
    if W.has('trunk.pos_embed'):
        src = tuple(trunk.patch_embed.grid_size)
        x = x + resize_abs_pos_embed(W['trunk.pos_embed'][0], src, grid).to(x.dtype)
    x = W.ln(x, 'trunk.norm_pre')
    rope = None
    if trunk.rope is not None:
        head_dim = W['trunk.blocks.0.attn.proj.weight'].shape[1] // heads
        rope = eva_rope_tables(grid, head_dim, ref_grid=rope_ref_grid, device=x.device)

    depth = len(trunk.blocks)
    for i in range(depth):
        p = f'trunk.blocks.{i}'
        y = W.ln(x, f'{p}.norm1')
        if W.has(f'{p}.attn.qkv.weight'):  # fused weights: q bias, no k bias, v bias
            wq, wk, wv = W[f'{p}.attn.qkv.weight'].chunk(3, dim=0)
            bq, bv = W.get(f'{p}.attn.q_bias'), W.get(f'{p}.attn.v_bias')
        else:
            wq, wk, wv = (W[f'{p}.attn.{n}_proj.weight'] for n in 'qkv')
            bq, bv = W.get(f'{p}.attn.q_proj.bias'), W.get(f'{p}.attn.v_proj.bias')
        v = F.linear(y, wv, bv)  # shape: [B, N, C]
        if attention_free_last and i == depth - 1:
            o = v  # no query-key attention: every token keeps its own value
        else:
            q, k = _split_heads(F.linear(y, wq, bq), heads), _split_heads(F.linear(y, wk), heads)
            if rope is not None:
                q, k = _rope(q, *rope), _rope(k, *rope)
            o = _merge_heads(_attention(q, k, _split_heads(v, heads)))
        o = W.linear(W.ln(o, f'{p}.attn.norm'), f'{p}.attn.proj')
        if W.has(f'{p}.gamma_1'):
            o = o * W[f'{p}.gamma_1']
        x = x + o
        y = W.ln(x, f'{p}.norm2')
        if not W.has(f'{p}.mlp.fc1_g.weight'):
            raise ValueError('reference path: only the SwiGLU MLP (fc1_g, fc1_x, norm, fc2) of '
                                      'EVA02-CLIP is implemented')
        y = F.silu(W.linear(y, f'{p}.mlp.fc1_g')) * W.linear(y, f'{p}.mlp.fc1_x')
        y = W.linear(W.ln(y, f'{p}.mlp.norm'), f'{p}.mlp.fc2')
        if W.has(f'{p}.gamma_2'):
            y = y * W[f'{p}.gamma_2']
        x = x + y

    x = W.ln(W.ln(x, 'trunk.norm'), 'trunk.fc_norm')
    if W.has('trunk.head.weight'):
        x = W.linear(x, 'trunk.head')
    if W.has('head.proj.weight'):
        x = W.linear(x, 'head.proj')
    elif any(k.startswith('head.') for k in W.sd):
        raise ValueError('reference path: only a linear (or no) open_clip projection head')
    return x, grid


# -- OpenAI-style open_clip VisionTransformer -----------------------------------------------------------

def _activation(module: nn.Module):
    name = type(module).__name__
    if name == 'QuickGELU':
        return lambda t: t * torch.sigmoid(1.702 * t)
    if isinstance(module, nn.GELU):
        return lambda t: F.gelu(t, approximate=module.approximate)
    raise ValueError(f'reference path: activation {name}')


def _openai_forward(visual, images, attention_free_last):
    W = _Weights(visual)
    blocks = visual.transformer.resblocks
    x, grid = _patchify(images, W['conv1.weight'], W.get('conv1.bias'))
    x = torch.cat([W['class_embedding'].expand(x.shape[0], 1, -1).to(x.dtype), x], dim=1)
    x = x + resize_abs_pos_embed(W['positional_embedding'], tuple(visual.grid_size), grid).to(x.dtype)
    x = W.ln(x, 'ln_pre')
    depth = len(blocks)
    for i in range(depth):
        p = f'transformer.resblocks.{i}'
        heads = blocks[i].attn.num_heads
        act = _activation(blocks[i].mlp.gelu)
        y = W.ln(x, f'{p}.ln_1')
        wq, wk, wv = W[f'{p}.attn.in_proj_weight'].chunk(3, dim=0)
        b = W.get(f'{p}.attn.in_proj_bias')
        bq, bk, bv = b.chunk(3) if b is not None else (None, None, None)
        v = F.linear(y, wv, bv)  # shape: [B, N, C]
        if attention_free_last and i == depth - 1:
            o = v
        else:
            q, k = _split_heads(F.linear(y, wq, bq), heads), _split_heads(F.linear(y, wk, bk), heads)
            o = _merge_heads(_attention(q, k, _split_heads(v, heads)))
        o = W.linear(o, f'{p}.attn.out_proj')
        if W.has(f'{p}.ls_1.gamma'):
            o = o * W[f'{p}.ls_1.gamma']
        x = x + o
        y = W.linear(act(W.linear(W.ln(x, f'{p}.ln_2'), f'{p}.mlp.c_fc')), f'{p}.mlp.c_proj')
        if W.has(f'{p}.ls_2.gamma'):
            y = y * W[f'{p}.ls_2.gamma']
        x = x + y
    x = W.ln(x, 'ln_post')
    if W.has('proj'):
        x = x @ W['proj']
    return x, grid


# -- public functions ---------------------------------------------------------------------------------

def _visual(clip: nn.Module) -> nn.Module:
    clip = getattr(clip, 'clip', clip)  # a DenseCLIP is unwrapped to its open_clip model
    return clip.visual


def reference_forward(clip: nn.Module, images: torch.Tensor, *, attention_free_last: bool,
                      rope_ref_grid: Optional[float] = 16.0) -> Tuple[torch.Tensor, Grid]:
    """All tokens after the final norm and projection head (not normalised).

    Args:
        clip: an open_clip CLIP (or a ``DenseCLIP``) with an EVA02 (timm ``Eva``) or OpenAI-style
            (open_clip ``VisionTransformer``) image tower.
        images: ``[B, 3, H, W]`` normalised pixels.
        attention_free_last: run the last block as ``x + proj(v(norm1(x)))`` + MLP (the dense path).
        rope_ref_grid: EVA02 RoPE reference grid (16 for EVA02-CLIP; see :func:`eva_rope_tables`).
    Returns:
        ``(tokens [B, 1 + h*w, D], (h, w))``; token 0 is CLS, the rest row-major patches.
    """
    visual = _visual(clip)
    trunk = getattr(visual, 'trunk', None)
    if trunk is not None and type(trunk).__name__ == 'Eva':
        return _eva_forward(visual, images, attention_free_last, rope_ref_grid)
    if hasattr(visual, 'conv1') and hasattr(visual, 'transformer'):
        return _openai_forward(visual, images, attention_free_last)
    raise ValueError(f'reference path: image tower {type(visual).__name__}')


def reference_encode_dense(clip: nn.Module, images: torch.Tensor, *,
                           rope_ref_grid: Optional[float] = 16.0) -> torch.Tensor:
    """CLIPSelf dense features: ``[B, 3, H, W] -> [B, D, H // p, W // p]``, L2-normalised over D."""
    tokens, (h, w) = reference_forward(clip, images, attention_free_last=True, rope_ref_grid=rope_ref_grid)
    x = F.normalize(tokens[:, 1:], dim=-1)  # shape: [B, h*w, D]
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[-1], h, w)


def reference_encode_image(clip: nn.Module, images: torch.Tensor, *,
                           rope_ref_grid: Optional[float] = 16.0) -> torch.Tensor:
    """The CLS embedding with every block attending: ``[B, 3, H, W] -> [B, D]``, L2-normalised."""
    tokens, _ = reference_forward(clip, images, attention_free_last=False, rope_ref_grid=rope_ref_grid)
    return F.normalize(tokens[:, 0], dim=-1)
