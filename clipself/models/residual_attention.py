"""ReViT residual attention (Diko et al., "ReViT: Enhancing Vision Transformers Feature Diversity with Attention
Residual Connections", arXiv 2402.11301) as an option of the dense towers.

In every block that attends, the pre-softmax scores ``S_l = (q * d^-0.5) k^T`` are mixed with the previous
attending block's mixed scores before the softmax and carried on:

    S_l' = alpha * S_l + (1 - alpha) * S_{l-1}'        (the first attending block has no S_{l-1}': S_0' = S_0)

with ``alpha`` one learnable scalar shared by all blocks (ReViT's official code keeps a single ``alpha``
parameter on the model, initialised to 0.5, and mixes the scaled scores before the mask and the softmax).
``alpha = 1`` is the unchanged CLIP. The attention-free last block of the dense path does not attend, so it
neither uses nor produces scores.

Memory: the scores must exist explicitly (no fused SDPA kernel), and ``S_{l-1}'`` is carried from block to
block: one ``[B, heads, N, N]`` tensor (B/16 at 1024 px: N = 4097, 12 heads, fp32: 805 MB per image). Without
gradients the carried tensor is updated in place one head at a time, so besides it only two ``[B, N, N]``
per-head temporaries exist (134 MB per image at 1024 px): never a second block's worth of scores. With
gradients autograd keeps, per block, the raw and the mixed scores and the softmax output for backward (about
3 x 805 MB per block per image at 1024 px; gradient checkpointing keeps only each block's carried input).
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def check_alpha(alpha: float, name: str = 'residual_attention.alpha') -> float:
    """``alpha`` as a float in ``[0, 1]``, or a ``ValueError`` naming ``name``."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f'{name} must be a number in [0, 1], got {alpha!r}') from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f'{name} must be in [0, 1] (1 = the unchanged CLIP), got {alpha}')
    return value


class ResidualAttention(nn.Module):
    """Holds ReViT's ``alpha``: one learnable scalar shared by all attending blocks of a tower.

    Args:
        alpha: initial value in ``[0, 1]``; 1.0 starts from the pretrained CLIP exactly.
    """

    def __init__(self, *, alpha: float = 1.0):
        super().__init__()
        # shape [1], as in ReViT's code: a 1-D parameter, so the configs' paramwise_cfg (flat_decay_mult=0) keeps
        # weight decay off it (decay would pull alpha towards 0, i.e. towards more mixing)
        self.alpha = nn.Parameter(torch.tensor([check_alpha(alpha)]))

    def is_identity(self) -> bool:
        """True when the mixing cannot change anything: ``alpha == 1`` and no gradient wanted for it. The tower
        then runs its ordinary (fused SDPA) attention, so the outputs are those of the unchanged CLIP bit for
        bit. With a gradient wanted, the scores are computed explicitly even at 1 (``d out / d alpha`` needs
        ``S_l - S_{l-1}'``)."""
        if torch.is_grad_enabled() and self.alpha.requires_grad:
            return False
        return bool(self.alpha.detach() == 1)

    def extra_repr(self) -> str:
        return f'alpha={self.alpha.item():.4g}'


def residual_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, alpha: torch.Tensor,
                       prev: Optional[torch.Tensor] = None, attn_mask: Optional[torch.Tensor] = None,
                       dropout_p: float = 0.0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Attention with ReViT's residual scores.

    Args:
        q, k, v: ``[B, h, N, d]`` (RoPE already applied).
        alpha: one-element tensor (the shared learnable one).
        prev: the previous block's mixed scores ``[B, h, N, N]`` or None (the first attending block).
            Without gradients it is updated in place and returned as the new scores.
        attn_mask: bool, True = attend, broadcastable to ``[B, h, N, N]`` (window padding); applied after
            the mixing, as ReViT applies its masks, so the carried scores hold no ``-inf``.
        dropout_p: attention dropout on the probabilities.
    Returns:
        ``(out [B, h, N, d], scores [B, h, N, N])``: the attention output and the mixed pre-softmax scores to
        carry to the next attending block.
    """
    scale = q.shape[-1] ** -0.5
    if prev is not None and prev.shape[-2:] != (q.shape[-2], k.shape[-2]):
        raise ValueError(f'carried scores {tuple(prev.shape)} do not fit {q.shape[-2]} queries x '
                         f'{k.shape[-2]} keys')
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (q, k, v, alpha, prev))
    if needs_grad:
        scores = (q * scale) @ k.transpose(-2, -1)  # shape: [B, h, N, N]
        if prev is not None:
            scores = alpha * scores + (1 - alpha) * prev
        logits = scores if attn_mask is None else scores.masked_fill(~attn_mask, float('-inf'))
        probs = F.dropout(logits.softmax(-1), p=dropout_p) if dropout_p > 0 else logits.softmax(-1)
        return probs @ v, scores
    # inference: one head at a time, the carried tensor updated in place
    a = float(alpha)
    b, h, n, _ = q.shape
    scores = prev if prev is not None else q.new_empty(b, h, n, k.shape[-2])
    out = torch.empty(b, h, n, v.shape[-1], dtype=v.dtype, device=v.device)
    mask = None if attn_mask is None else ~attn_mask.expand(b, h, n, k.shape[-2])
    for j in range(h):
        s = (q[:, j] * scale) @ k[:, j].transpose(-2, -1)  # shape: [B, N, N]
        if prev is not None:
            s.mul_(a).add_(prev[:, j], alpha=1 - a)
        scores[:, j].copy_(s)
        if mask is not None:
            s.masked_fill_(mask[:, j], float('-inf'))
        p = s.softmax(-1)
        del s
        if dropout_p > 0:
            p = F.dropout(p, p=dropout_p)
        out[:, j] = p @ v[:, j]
    return out, scores
