"""Region masks on the token grid, two ways.

:func:`resize_longest_masks` (the reference evaluation's way, the default of the protocol): each region's
full-resolution binary mask resized so its longest side is the grid's (bicubic, no antialiasing), padded
right/bottom with 0, thresholded ``> 0``. Without antialiasing a token reads the mask near one sample point:
it is on when the region covers (to within about a pixel) that point; a region between sample points gets none.

:func:`region_masks_on_grid` (``mask_weights='area'``): the fraction of each token that a region covers.
The dense input is the original image scaled by ``scale`` (longest side -> dense size) and padded
right/bottom; token ``(i, j)`` covers dense-input pixels ``[i*ph, (i+1)*ph) x [j*pw, (j+1)*pw)``. Original pixel
``(y, x)`` covers ``[y*scale, (y+1)*scale) x [x*scale, (x+1)*scale)``. The weight of token ``(i, j)`` for region
``k`` is the area of the token covered by the region's pixels divided by the token's area (exact, separable
overlaps; no pixel is lost however small the region or the scale), so a region smaller than a patch still
gets a non-zero weight on the token(s) it touches.
"""
import math
from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F


def _axis_overlaps(n_pixels: int, scale: float, patch: int, n_tokens: int, device) -> Tuple[torch.Tensor, torch.Tensor]:
    """For pixels ``0..n-1`` along one axis: ``(token [n, m] long, weight [n, m] float)``, the tokens each pixel
    overlaps and the overlap length in token units (0 where there is none or the token is off the grid)."""
    step = scale / patch  # pixel length in token units
    m = int(math.ceil(step)) + 1
    x = torch.arange(n_pixels, device=device, dtype=torch.float64)
    lo, hi = x * step, (x + 1) * step
    first = torch.floor(lo).long()
    tok = first[:, None] + torch.arange(m, device=device)[None, :]  # shape: [n, m]
    t = tok.double()
    w = (torch.minimum(hi[:, None], t + 1) - torch.maximum(lo[:, None], t)).clamp_min(0)
    w = torch.where(tok < n_tokens, w, torch.zeros_like(w))
    return tok.clamp_max(n_tokens - 1), w


def region_masks_on_grid(region_map: torch.Tensor, num_regions: int, *, scale: float,
                         patch_size: Union[int, Sequence[int]], grid_hw: Sequence[int]) -> torch.Tensor:
    """Area weights of ``num_regions`` regions on a ``grid_hw`` token grid.

    Args:
        region_map: ``[H, W]`` integer map at the ORIGINAL resolution: ``k`` (0..K-1) where region k lies,
            negative where no region does (regions do not overlap, as panoptic segments).
        num_regions: K.
        scale: original pixels -> dense-input pixels (``resize_pad``'s scale).
        patch_size: ``p`` or ``(ph, pw)``.
        grid_hw: ``(h, w)`` of the dense map (``floor(S / p)``).
    Returns:
        ``[K, h, w]`` float32 in ``[0, 1]``: the fraction of each token covered by each region, on
        ``region_map``'s device.
    """
    if region_map.dim() != 2:
        raise ValueError(f'region_map must be [H, W], got {tuple(region_map.shape)}')
    ph, pw = (patch_size, patch_size) if isinstance(patch_size, int) else tuple(patch_size)
    gh, gw = (int(v) for v in grid_hw)
    dev = region_map.device
    if num_regions == 0:
        return torch.zeros(0, gh, gw, device=dev)
    rm = region_map.long()
    if int(rm.max()) >= num_regions:
        raise ValueError(f'region_map holds index {int(rm.max())} but num_regions is {num_regions}')
    h, w = rm.shape
    ty, wy = _axis_overlaps(h, scale, ph, gh, dev)  # shape: [H, my]
    tx, wx = _axis_overlaps(w, scale, pw, gw, dev)  # shape: [W, mx]
    inside = rm >= 0
    region = rm.clamp_min(0)
    total = torch.zeros(gh * gw * num_regions, dtype=torch.float64, device=dev)
    for a in range(ty.shape[1]):
        for b in range(tx.shape[1]):
            weight = wy[:, a, None] * wx[None, :, b]  # shape: [H, W]
            keep = inside & (weight > 0)
            if not keep.any():
                continue
            flat = (ty[:, a, None] * gw + tx[None, :, b]) * num_regions + region  # shape: [H, W]
            total += torch.bincount(flat[keep], weights=weight[keep], minlength=total.numel())
    # shape: [h, w, K] -> [K, h, w]; each token has area 1 in token units, so sums are fractions
    return total.view(gh, gw, num_regions).permute(2, 0, 1).float().clamp_(0, 1).contiguous()


def resize_longest_masks(region_map: torch.Tensor, num_regions: int, *, grid_hw: Sequence[int],
                         chunk: int = 8) -> torch.Tensor:
    """Binary region masks on the token grid, as the reference evaluation makes them.

    For each region ``k``: the ``[H, W]`` mask ``region_map == k`` (float) is resized to
    ``(round(H s), round(W s))`` with ``s = G / max(H, W)``, ``G = max(grid_hw)`` (bicubic, ``align_corners=False``,
    no antialiasing: the reference's ``ResizeLongest`` on a tensor under torchvision < 0.17), padded right/bottom
    with 0 to ``grid_hw`` and thresholded ``> 0``.

    Args:
        region_map: ``[H, W]`` integer map at the ORIGINAL resolution, ``k`` where region k lies, negative
            elsewhere.
        num_regions: K.
        grid_hw: ``(h, w)`` of the dense map.
        chunk: regions resized per call (bounds memory: ``chunk x H x W`` floats).
    Returns:
        ``[K, h, w]`` float32 of 0 / 1, on ``region_map``'s device.
    """
    if region_map.dim() != 2:
        raise ValueError(f'region_map must be [H, W], got {tuple(region_map.shape)}')
    gh, gw = (int(v) for v in grid_hw)
    dev = region_map.device
    out = torch.zeros(num_regions, gh, gw, device=dev)
    if num_regions == 0:
        return out
    h, w = region_map.shape
    scale = max(gh, gw) / float(max(h, w))
    nh, nw = round(h * scale), round(w * scale)  # Python rounding, as the reference
    th, tw = min(nh, gh), min(nw, gw)
    rm = region_map.long()
    for start in range(0, num_regions, chunk):
        ks = torch.arange(start, min(start + chunk, num_regions), device=dev)
        masks = (rm[None] == ks[:, None, None]).float()[:, None]  # shape: [k, 1, H, W]
        small = F.interpolate(masks, size=(nh, nw), mode='bicubic', align_corners=False, antialias=False)
        out[start:start + len(ks), :th, :tw] = (small[:, 0, :th, :tw] > 0).float()  # shape: [k, h, w]
    return out
