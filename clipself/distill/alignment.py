"""How well dense region features match the CLIP embeddings of the crops: the quantity CLIPSelf optimises."""
from typing import Iterable

import torch

from ..models.dense_clip import DenseCLIP


@torch.no_grad()
def region_crop_alignment(student: DenseCLIP, teacher: DenseCLIP, items: Iterable[dict]) -> float:
    """Mean cosine between ``student``'s RoI features and ``teacher``'s crop embeddings.

    Args:
        items: ``CLIPSelfDataset`` items (``image [3, S, S]`` uint8, ``boxes [K, 4]`` student pixels,
            ``crops [K, 3, T, T]`` uint8).
    Returns:
        The mean over all regions, in [-1, 1]; ``student is teacher`` measures the untrained CLIP.
    """
    total, count = 0.0, 0
    for item in items:
        x = student.normalize_pixels(item['image'])[None]
        rois = student.roi_features(student.encode_dense(x), [item['boxes']])
        crops = teacher.encode_image(teacher.normalize_pixels(item['crops']))
        total += float((rois * crops).sum(-1).sum())
        count += len(rois)
    if count == 0:
        raise ValueError('no regions to measure')
    return total / count
