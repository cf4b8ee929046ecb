"""CAT-Seg's cost-aggregation layers (Cho et al., CVPR 2024), plain torch.

The cost volume is embedded per class and kept channels-last, ``[B, K, h, w, C]`` (K classes, C hidden channels);
an :class:`AggregationLayer` runs a spatial aggregation (two Swin-style window-attention blocks, the second one
shifted, per class, with the projected CLIP features as appearance guidance in queries and keys) then a class
aggregation (linear attention across the classes at every pooled position, with the projected text embeddings as
guidance in queries and keys).
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import Mlp


def window_split(x: torch.Tensor, ws: int) -> torch.Tensor:
    """``[N, h, w, C]`` -> ``[N, nh*nw, ws*ws, C]`` (h, w multiples of ``ws``; windows row-major)."""
    n, h, w, c = x.shape
    x = x.view(n, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(n, (h // ws) * (w // ws), ws * ws, c)


def window_merge(x: torch.Tensor, ws: int, hw: Tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`window_split`: ``[N, nh*nw, ws*ws, C]`` -> ``[N, h, w, C]``."""
    h, w = hw
    n, c = x.shape[0], x.shape[-1]
    x = x.view(n, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(n, h, w, c)


def shifted_window_mask(hw: Tuple[int, int], ws: int, shift: int, device=None) -> torch.Tensor:
    """Swin's mask for windows of a map rolled by ``-shift``: ``[nh*nw, ws*ws, ws*ws]`` bool, True where two tokens
    came from the same region of the unrolled map (may attend)."""
    h, w = hw
    region = torch.zeros(h, w, dtype=torch.long, device=device)
    cuts = lambda n: (slice(0, n - ws), slice(n - ws, n - shift), slice(n - shift, n))  # noqa: E731
    for i, hs in enumerate(cuts(h)):
        for j, vs in enumerate(cuts(w)):
            region[hs, vs] = 3 * i + j
    r = window_split(region[None, :, :, None], ws)[0, :, :, 0]  # shape: [nh*nw, ws*ws]
    return r[:, :, None] == r[:, None, :]


class GuidedWindowBlock(nn.Module):
    """A pre-norm Swin block (window attention, then an MLP) whose queries and keys also see a guidance map.

    Args:
        dim: channels of the cost embedding; guidance_dim: channels of the guidance (0: none).
        num_heads: attention heads; window_size, shift: Swin's window and (for the second block) shift in tokens.
    """

    def __init__(self, *, dim: int, guidance_dim: int, num_heads: int, window_size: int, shift: int = 0):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'hidden dim {dim} is not a multiple of the {num_heads} heads')
        if not 0 <= shift < window_size:
            raise ValueError(f'shift {shift} must be in [0, window_size={window_size})')
        self.num_heads, self.window_size, self.shift = num_heads, window_size, shift
        self.norm1 = nn.LayerNorm(dim)
        self.q = nn.Linear(dim + guidance_dim, dim)
        self.k = nn.Linear(dim + guidance_dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(in_features=dim, hidden_features=4 * dim)

    def forward(self, x: torch.Tensor, guidance: Optional[torch.Tensor]) -> torch.Tensor:
        """``x [N, h, w, C]``, ``guidance [N, h, w, G]`` or None -> ``[N, h, w, C]`` (h, w multiples of the window)."""
        n, h, w, c = x.shape
        ws, s = self.window_size, self.shift
        y = self.norm1(x)
        qk_in = y if guidance is None else torch.cat([y, guidance], dim=-1)
        if s:
            y, qk_in = (torch.roll(t, shifts=(-s, -s), dims=(1, 2)) for t in (y, qk_in))
        y, qk_in = window_split(y, ws), window_split(qk_in, ws)  # shape: [N, nW, ws*ws, .]
        nw, length = y.shape[1], y.shape[2]
        heads = lambda t: t.view(n, nw, length, self.num_heads, -1).transpose(2, 3)  # noqa: E731  [N, nW, H, L, d]
        mask = shifted_window_mask((h, w), ws, s, x.device)[:, None] if s else None  # shape: [nW, 1, L, L]
        out = F.scaled_dot_product_attention(heads(self.q(qk_in)), heads(self.k(qk_in)), heads(self.v(y)),
                                             attn_mask=mask)
        out = window_merge(out.transpose(2, 3).reshape(n, nw, length, c), ws, (h, w))
        if s:
            out = torch.roll(out, shifts=(s, s), dims=(1, 2))
        x = x + self.proj(out)
        return x + self.mlp(self.norm2(x))


class SpatialAggregation(nn.Module):
    """Two :class:`GuidedWindowBlock` (unshifted, then shifted by half a window) on every class's cost map; the
    appearance guidance is layer-normalised once and shared. A window larger than the map shrinks to it (no
    shift), as in Swin."""

    def __init__(self, *, dim: int, guidance_dim: int, num_heads: int, window_size: int, feature_hw: Tuple[int, int]):
        super().__init__()
        ws = min(window_size, *feature_hw)
        if feature_hw[0] % ws or feature_hw[1] % ws:
            raise ValueError(f'the {feature_hw[0]}x{feature_hw[1]} feature map is not a whole number of '
                             f'{ws}x{ws} windows (choose window_size or the CLIP input size accordingly)')
        shift = ws // 2 if ws < min(feature_hw) else 0
        self.blocks = nn.ModuleList([
            GuidedWindowBlock(dim=dim, guidance_dim=guidance_dim, num_heads=num_heads, window_size=ws, shift=0),
            GuidedWindowBlock(dim=dim, guidance_dim=guidance_dim, num_heads=num_heads, window_size=ws, shift=shift)])
        self.guidance_norm = nn.LayerNorm(guidance_dim) if guidance_dim else None

    def forward(self, x: torch.Tensor, guidance: Optional[torch.Tensor]) -> torch.Tensor:
        """``x [B, K, h, w, C]``, ``guidance [B, h, w, G]`` or None -> ``[B, K, h, w, C]``."""
        b, k, h, w, c = x.shape
        x = x.reshape(b * k, h, w, c)
        if guidance is not None:
            guidance = self.guidance_norm(guidance)
            guidance = guidance[:, None].expand(b, k, *guidance.shape[1:]).reshape(b * k, h, w, -1)
        for block in self.blocks:
            x = block(x, guidance)
        return x.view(b, k, h, w, c)


def linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Linear attention ("Transformers are RNNs", feature map ``elu + 1``): q ``[N, L, H, d]``, k and v
    ``[N, S, H, d]`` -> ``[N, L, H, d]``."""
    q, k = F.elu(q) + 1, F.elu(k) + 1
    length = v.shape[1]
    kv = torch.einsum('nshd,nshv->nhdv', k, v / length)  # values scaled down against fp16 overflow
    z = 1.0 / (torch.einsum('nlhd,nhd->nlh', q, k.sum(dim=1)) + eps)
    return torch.einsum('nlhd,nhdv,nlh->nlhv', q, kv, z) * length


class ClassAggregation(nn.Module):
    """Linear attention across the classes at every position of the average-pooled cost embedding, with the text
    guidance concatenated to queries and keys; then an MLP; the result is upsampled back and added.

    ``pooling`` applies in training, ``test_pooling`` in eval mode (CAT-Seg evaluates with ``(1, 1)``: no pooling).
    With fewer than ``pad_len`` classes the sequence is padded to ``pad_len`` with learned tokens (and learned
    guidance), so that the attention sees the same number of tokens whatever the vocabulary.
    """

    def __init__(self, *, dim: int, guidance_dim: int, num_heads: int, pooling: Tuple[int, int],
                 test_pooling: Tuple[int, int], pad_len: int):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'hidden dim {dim} is not a multiple of the {num_heads} heads')
        self.num_heads, self.pad_len = num_heads, int(pad_len)
        self.pooling, self.test_pooling = tuple(pooling), tuple(test_pooling)
        self.norm1 = nn.LayerNorm(dim)
        self.q = nn.Linear(dim + guidance_dim, dim)
        self.k = nn.Linear(dim + guidance_dim, dim)
        self.v = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.ReLU(), nn.Linear(4 * dim, dim))
        self.pad_token = nn.Parameter(torch.zeros(1, 1, dim)) if pad_len > 0 else None
        self.pad_guidance = nn.Parameter(torch.zeros(1, 1, guidance_dim)) if pad_len > 0 and guidance_dim else None

    def forward(self, x: torch.Tensor, guidance: Optional[torch.Tensor]) -> torch.Tensor:
        """``x [B, K, h, w, C]``, ``guidance [B, K, G]`` or None -> ``[B, K, h, w, C]``."""
        b, k, h, w, c = x.shape
        pooling = self.pooling if self.training else self.test_pooling
        pooled = F.avg_pool2d(x.reshape(b * k, h, w, c).permute(0, 3, 1, 2), pooling)  # shape: [B*K, C, h', w']
        hp, wp = pooled.shape[-2:]
        seq = pooled.view(b, k, c, hp * wp).permute(0, 3, 1, 2).reshape(b * hp * wp, k, c)  # shape: [B*h'*w', K, C]
        pad = self.pad_len - k if self.pad_token is not None else 0
        if pad > 0:
            seq = torch.cat([seq, self.pad_token.expand(seq.shape[0], pad, c)], dim=1)
        y = self.norm1(seq)
        qk_in = y
        if guidance is not None:
            if pad > 0 and self.pad_guidance is not None:
                guidance = torch.cat([guidance, self.pad_guidance.expand(b, pad, -1)], dim=1)
            g = guidance[:, None].expand(b, hp * wp, *guidance.shape[1:]).reshape(b * hp * wp, guidance.shape[1], -1)
            qk_in = torch.cat([y, g], dim=-1)
        heads = lambda t: t.view(t.shape[0], t.shape[1], self.num_heads, -1)  # noqa: E731
        att = linear_attention(heads(self.q(qk_in)), heads(self.k(qk_in)), heads(self.v(y)))
        seq = seq + att.reshape(seq.shape)
        seq = seq + self.mlp(self.norm2(seq))
        seq = seq[:, :k]
        up = seq.view(b, hp, wp, k, c).permute(0, 3, 4, 1, 2).reshape(b * k, c, hp, wp)
        up = F.interpolate(up, size=(h, w), mode='bilinear', align_corners=True)  # shape: [B*K, C, h, w]
        return x + up.view(b, k, c, h, w).permute(0, 1, 3, 4, 2)


class AggregationLayer(nn.Module):
    """One CAT-Seg aggregation layer: :class:`SpatialAggregation` then :class:`ClassAggregation`."""

    def __init__(self, *, dim: int, appearance_dim: int, text_dim: int, num_heads: int, window_size: int,
                 feature_hw: Tuple[int, int], pooling: Tuple[int, int], test_pooling: Tuple[int, int], pad_len: int):
        super().__init__()
        self.spatial = SpatialAggregation(dim=dim, guidance_dim=appearance_dim, num_heads=num_heads,
                                          window_size=window_size, feature_hw=feature_hw)
        self.classes = ClassAggregation(dim=dim, guidance_dim=text_dim, num_heads=num_heads, pooling=pooling,
                                        test_pooling=test_pooling, pad_len=pad_len)

    def forward(self, x: torch.Tensor, appearance: Optional[torch.Tensor], text: Optional[torch.Tensor]):
        """``x [B, K, h, w, C]``, ``appearance [B, h, w, Ga]``, ``text [B, K, Gt]`` -> ``[B, K, h, w, C]``."""
        return self.classes(self.spatial(x, appearance), text)


class GuidedUpsample(nn.Module):
    """One decoder stage: a 2x transposed convolution of the cost embedding, concatenated with the (projected)
    guidance features of the ViT at that resolution, then two 3x3 conv + GroupNorm + ReLU."""

    def __init__(self, *, in_channels: int, out_channels: int, guidance_channels: int):
        super().__init__()
        if guidance_channels >= in_channels:
            raise ValueError(f'guidance channels ({guidance_channels}) must be fewer than the input channels '
                             f'({in_channels})')
        self.up = nn.ConvTranspose2d(in_channels, in_channels - guidance_channels, kernel_size=2, stride=2)
        groups = max(1, out_channels // 16)
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.GroupNorm(groups, out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False), nn.GroupNorm(groups, out_channels),
            nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor, guidance: torch.Tensor) -> torch.Tensor:
        """``x [B*K, Cin, h, w]``, ``guidance [B, Cg, 2h, 2w]`` (shared by the K classes) -> ``[B*K, Cout, 2h, 2w]``."""
        x = self.up(x)
        k = x.shape[0] // guidance.shape[0]
        guidance = guidance.repeat_interleave(k, dim=0)
        return self.conv(torch.cat([x, guidance], dim=1))
