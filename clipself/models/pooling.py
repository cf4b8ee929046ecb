"""Pool region features from a dense CLIP map: RoIAlign for boxes, weighted averages for masks."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

PatchSize = Union[int, Tuple[int, int]]


def check_boxes(boxes: torch.Tensor, image_hw: Optional[Sequence[int]] = None, *, name: str = 'boxes',
                clip: bool = False) -> torch.Tensor:
    """Validate ``[K, 4]`` xyxy boxes; with ``clip=True`` boxes are clipped to ``image_hw = (H, W)``.

    Raises ``ValueError`` naming the first bad box: wrong shape, non-finite values, ``x2 < x1`` or
    ``y2 < y1``, or (when ``image_hw`` is given and ``clip`` is False) a box outside the image.
    """
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f'{name} must be [K, 4] xyxy, got {tuple(boxes.shape)}')
    if boxes.numel() == 0:
        return boxes
    if not torch.isfinite(boxes).all():
        i = int((~torch.isfinite(boxes)).any(1).nonzero()[0])
        raise ValueError(f'{name}[{i}] = {boxes[i].tolist()} is not finite')
    inverted = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    if inverted.any():
        i = int(inverted.nonzero()[0])
        raise ValueError(f'{name}[{i}] = {boxes[i].tolist()} has x2 < x1 or y2 < y1 (expected xyxy)')
    if image_hw is not None:
        h, w = image_hw
        if clip:
            boxes = torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h),
                                 boxes[:, 2].clamp(0, w), boxes[:, 3].clamp(0, h)], dim=1)
        else:
            tol = 1e-3
            out = (boxes[:, 0] < -tol) | (boxes[:, 1] < -tol) | (boxes[:, 2] > w + tol) | (boxes[:, 3] > h + tol)
            if out.any():
                i = int(out.nonzero()[0])
                raise ValueError(f'{name}[{i}] = {boxes[i].tolist()} lies outside the {h}x{w} image '
                                 '(pass clip=True to clip boxes to the image)')
    return boxes


def roi_features(dense: torch.Tensor, boxes: Sequence[torch.Tensor], *, patch_size: PatchSize,
                 image_hw: Optional[Sequence[int]] = None, clip: bool = False,
                 normalize: bool = True) -> torch.Tensor:
    """One feature per box: RoIAlign (1x1 output, ``aligned=True``, adaptive sampling) on the dense map.

    Args:
        dense: ``[B, D, h, w]`` dense CLIP features (``encode_dense``).
        boxes: B tensors ``[K_b, 4]``, xyxy in input-image pixels (``K_b`` may be 0).
        patch_size: the tower's patch size ``p`` (int or ``(ph, pw)``): ``spatial_scale = 1/p``.
            ``DenseCLIP.roi_features`` fills it in.
        image_hw: ``(H, W)`` of the input image; when given, boxes outside it are an error (or clipped
            with ``clip=True``).
        normalize: L2-normalise each region feature (as the reference does before scoring).
    Returns:
        ``[sum_b K_b, D]`` in box order.
    """
    if dense.dim() != 4:
        raise ValueError(f'dense must be [B, D, h, w], got {tuple(dense.shape)}')
    if len(boxes) != dense.shape[0]:
        raise ValueError(f'got {len(boxes)} box lists for a batch of {dense.shape[0]} images')
    ph, pw = (patch_size, patch_size) if isinstance(patch_size, int) else patch_size
    boxes = [check_boxes(b, image_hw, name=f'boxes[{i}]', clip=clip) for i, b in enumerate(boxes)]
    if sum(len(b) for b in boxes) == 0:
        return dense.new_zeros(0, dense.shape[1])
    # token units by true division (84 / 14 == 6 exactly, 84 * float(1/14) is not, and RoIAlign's adaptive
    # sampling count ceil(roi size) would then jump from 1 to 2 samples per bin)
    stride = torch.tensor([pw, ph, pw, ph], dtype=torch.float64)
    boxes = [(b.double() / stride.to(b.device)).to(dense.dtype) for b in boxes]
    feats = roi_align(dense, boxes, output_size=(1, 1), spatial_scale=1.0, sampling_ratio=-1,
                      aligned=True)[:, :, 0, 0]  # shape: [sum K, D]
    return F.normalize(feats, dim=-1) if normalize else feats


def mask_pool(dense: torch.Tensor, masks: Sequence[torch.Tensor], *, normalize: bool = True,
              eps: float = 1e-12) -> torch.Tensor:
    """One feature per mask: the average of dense features weighted by the mask on the token grid.

    Args:
        dense: ``[B, D, h, w]``.
        masks: B tensors ``[K_b, H, W]`` (bool or float in [0, 1]). Masks already at the token grid
            (``H, W == h, w``) are used as they are; others are resized to the grid by area averaging,
            so each token is weighted by the fraction of it the mask covers.
        normalize: L2-normalise the pooled features.
    Returns:
        ``[sum_b K_b, D]``; an empty mask gives a zero vector.
    """
    if dense.dim() != 4:
        raise ValueError(f'dense must be [B, D, h, w], got {tuple(dense.shape)}')
    if len(masks) != dense.shape[0]:
        raise ValueError(f'got {len(masks)} mask lists for a batch of {dense.shape[0]} images')
    grid = dense.shape[-2:]
    out: List[torch.Tensor] = []
    for i, (feat, m) in enumerate(zip(dense, masks)):
        if m.dim() != 3:
            raise ValueError(f'masks[{i}] must be [K, H, W], got {tuple(m.shape)}')
        if len(m) == 0:
            continue
        m = m.to(feat.dtype)
        if m.shape[-2:] != grid:
            m = F.adaptive_avg_pool2d(m[:, None], grid)[:, 0]  # shape: [K, h, w]
        m = m.flatten(1)  # shape: [K, h*w]
        pooled = (m @ feat.flatten(1).T) / (m.sum(1, keepdim=True) + eps)  # shape: [K, D]
        out.append(pooled)
    if not out:
        return dense.new_zeros(0, dense.shape[1])
    feats = torch.cat(out)
    return F.normalize(feats, dim=-1) if normalize else feats
