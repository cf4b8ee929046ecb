"""Region features of the three kinds and their zero-shot top-k classes (plain torch).

- ``rois``: RoIAlign (1x1) of each box on ``encode_dense`` of the dense input;
- ``maskpool``: the dense map averaged under each region's mask on the token grid: ``mask_weights=
  'reference'`` the reference evaluation's binary masks (:func:`resize_longest_masks`), ``'area'`` the covered
  fraction of each token, ``'binary'`` 1 on any covered token;
- ``crops``: ``encode_image`` of each region's crop (the 1.5x box cut from the original image).
"""
from contextlib import contextmanager
from typing import Dict, Optional, Sequence

import torch

from ..models.device import module_device
from ..models.preprocess import normalize_pixels
from .grid_masks import region_masks_on_grid, resize_longest_masks
from .region_metrics import KINDS

MASK_WEIGHTS = ('reference', 'area', 'binary')


def grid_masks(region_map: torch.Tensor, num_regions: int, *, scale: float, patch_size, grid_hw,
               mask_weights: str = 'reference') -> torch.Tensor:
    """``[K, h, w]`` token weights of the regions of one image for ``maskpool`` (see the module docstring)."""
    if mask_weights == 'reference':
        return resize_longest_masks(region_map, num_regions, grid_hw=grid_hw)
    masks = region_masks_on_grid(region_map, num_regions, scale=scale, patch_size=patch_size, grid_hw=grid_hw)
    return (masks > 0).float() if mask_weights == 'binary' else masks


@contextmanager
def eval_mode(model):
    """Run ``model`` in eval mode and restore its previous mode afterwards (a borrowed training model)."""
    was_training = getattr(model, 'training', False)
    if was_training:
        model.eval()
    try:
        yield model
    finally:
        if was_training:
            model.train()


def region_features(model, *, images: Sequence[torch.Tensor], boxes: Sequence[torch.Tensor],
                    crops: Sequence[torch.Tensor], region_maps: Sequence[torch.Tensor], scales: Sequence[float],
                    kinds: Sequence[str] = KINDS, crop_batch_size: int = 64,
                    mask_weights: str = 'reference') -> Dict[str, torch.Tensor]:
    """L2-normalised region features of a batch, under ``torch.no_grad`` and eval mode.

    Args:
        model: a ``DenseCLIP`` (or anything with ``encode_dense``, ``encode_image``, ``roi_features``,
            ``mask_pool``, ``patch_size``, ``image_mean``, ``image_std``).
        images: B dense inputs ``[3, S, S]`` uint8 (``resize_pad``).
        boxes: B tensors ``[K_b, 4]`` xyxy in dense-input pixels.
        crops: B tensors ``[K_b, 3, T, T]`` uint8.
        region_maps: B ``[H_b, W_b]`` int maps at the original resolution (``k`` inside region k, -1 outside).
        scales: B floats, original -> dense-input pixels.
        kinds: any of ``'rois'``, ``'crops'``, ``'maskpool'``.
        crop_batch_size: crops per ``encode_image`` call (bounds memory whatever the number of regions).
        mask_weights: ``'reference'`` (the reference's resized binary masks), ``'area'`` (fraction of each
            token covered) or ``'binary'`` (1 on any covered token).
    Returns:
        ``{kind: [sum_b K_b, D]}`` in region order.
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f'unknown feature kinds {sorted(unknown)}; use {KINDS}')
    if mask_weights not in MASK_WEIGHTS:
        raise ValueError(f'mask_weights must be one of {MASK_WEIGHTS}, got {mask_weights!r}')
    if not len(images) == len(boxes) == len(crops) == len(region_maps) == len(scales):
        raise ValueError('images, boxes, crops, region_maps and scales must have one entry per image')
    dev = module_device(model)
    counts = [len(b) for b in boxes]
    out: Dict[str, torch.Tensor] = {}
    with torch.no_grad(), eval_mode(model):
        if 'rois' in kinds or 'maskpool' in kinds:
            x = normalize_pixels(torch.stack(list(images)).to(dev), model.image_mean, model.image_std)
            dense = model.encode_dense(x)  # shape: [B, D, h, w]
            if 'rois' in kinds:
                out['rois'] = model.roi_features(dense, [b.to(dev, torch.float32) for b in boxes])
            if 'maskpool' in kinds:
                masks = [grid_masks(rm.to(dev), k, scale=s, patch_size=model.patch_size, grid_hw=dense.shape[-2:],
                                    mask_weights=mask_weights) for rm, k, s in zip(region_maps, counts, scales)]
                out['maskpool'] = model.mask_pool(dense, masks)  # shape: [N, D]
        if 'crops' in kinds:
            all_crops = torch.cat([c.reshape(-1, *c.shape[-3:]) for c in crops]) if crops else torch.zeros(0)
            feats = []
            for start in range(0, len(all_crops), crop_batch_size):
                chunk = normalize_pixels(all_crops[start:start + crop_batch_size].to(dev), model.image_mean,
                                         model.image_std)
                feats.append(model.encode_image(chunk))  # shape: [n, D]
            dim = getattr(model, 'embed_dim', None) or (feats[0].shape[1] if feats else 0)
            out['crops'] = torch.cat(feats) if feats else torch.zeros(0, dim, device=dev)
    return {k: out[k] for k in kinds}


def topk_classes(features: torch.Tensor, class_embeddings: torch.Tensor, k: int = 5) -> torch.Tensor:
    """``[N, D]`` features x ``[C, D]`` class embeddings -> ``[N, min(k, C)]`` class indices, best first
    (cosine similarity; both sides are L2-normalised here)."""
    f = torch.nn.functional.normalize(features.float(), dim=-1)
    t = torch.nn.functional.normalize(class_embeddings.float().to(f.device), dim=-1)
    return (f @ t.T).topk(min(k, t.shape[0]), dim=1).indices


def predict_regions(model, *, class_embeddings: torch.Tensor, topk: int = 5, kinds: Sequence[str] = KINDS,
                    crop_batch_size: int = 64, mask_weights: str = 'reference',
                    features: Optional[Dict[str, torch.Tensor]] = None, **inputs) -> Dict[str, torch.Tensor]:
    """Zero-shot top-k classes of every region of a batch: ``{kind: [sum_b K_b, min(topk, C)]}`` (long).

    ``inputs`` are the keyword arguments of :func:`region_features` (``images``, ``boxes``, ``crops``,
    ``region_maps``, ``scales``); pass ``features`` instead to score precomputed features.
    """
    if features is None:
        features = region_features(model, kinds=kinds, crop_batch_size=crop_batch_size, mask_weights=mask_weights,
                                   **inputs)
    return {kind: topk_classes(f, class_embeddings, topk) for kind, f in features.items()}
