"""Local window attention for the dense path (the CLIPSelf / ViTAEv2-style variant).

The patch tokens of a ``h x w`` grid are split into ``ws x ws`` windows (the grid is zero-padded on the
right/bottom to whole windows; padded tokens are masked out of the attention); each window gets its own copy
of the CLS token in front, the block runs on every window as a sequence of ``1 + ws*ws`` tokens, and the CLS
copies are averaged back into one.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

Grid = Tuple[int, int]


def window_partition(x: torch.Tensor, grid: Grid, ws: int) -> Tuple[torch.Tensor, Optional[torch.Tensor], Grid]:
    """``x [B, 1 + h*w, C]`` -> ``(windows [B * nW, 1 + ws*ws, C], attn_mask or None, padded grid)``.

    Windows are ordered row-major per image; ``attn_mask`` (``[B * nW, 1, 1, 1 + ws*ws]`` bool, True = attend)
    is only built when the grid had to be padded.
    """
    b, _, c = x.shape
    h, w = grid
    ph, pw = (-h) % ws, (-w) % ws
    patches = x[:, 1:].reshape(b, h, w, c)
    if ph or pw:
        patches = F.pad(patches, (0, 0, 0, pw, 0, ph))
    hp, wp = h + ph, w + pw
    nw = (hp // ws) * (wp // ws)
    win = patches.reshape(b, hp // ws, ws, wp // ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(b * nw, ws * ws, c)
    win = torch.cat([x[:, :1].repeat_interleave(nw, dim=0), win], dim=1)  # shape: [B*nW, 1 + ws*ws, C]
    mask = None
    if ph or pw:
        valid = torch.zeros(hp, wp, dtype=torch.bool, device=x.device)
        valid[:h, :w] = True
        valid = valid.reshape(hp // ws, ws, wp // ws, ws).permute(0, 2, 1, 3).reshape(nw, ws * ws)
        valid = torch.cat([valid.new_ones(nw, 1), valid], dim=1)  # CLS always attended
        mask = valid.repeat(b, 1)[:, None, None, :]
    return win, mask, (hp, wp)


def window_unpartition(win: torch.Tensor, grid: Grid, padded: Grid, ws: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`: ``[B * nW, 1 + ws*ws, C]`` -> ``[B, 1 + h*w, C]``, CLS averaged."""
    h, w = grid
    hp, wp = padded
    nw = (hp // ws) * (wp // ws)
    c = win.shape[-1]
    b = win.shape[0] // nw
    cls = win[:, :1].reshape(b, nw, 1, c).mean(1)
    patches = win[:, 1:].reshape(b, hp // ws, wp // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, c)
    patches = patches[:, :h, :w].reshape(b, h * w, c)
    return torch.cat([cls, patches], dim=1)
