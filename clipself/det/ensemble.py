"""F-ViT's test-time ensemble of the detector's classifier with the frozen CLIP's own region classification."""
from typing import Optional

import torch
import torch.nn.functional as F


def clip_region_probs(region_feats: torch.Tensor, embeddings: torch.Tensor, temperature: float) -> torch.Tensor:
    """``p_clip = softmax(T_vlm * cos(region, text))``.

    Args:
        region_feats: ``[N, D]`` CLIP region features (RoIAlign 1x1 on the dense map).
        embeddings: ``[K, D]`` class embeddings (background last; a zero row gives logit 0).
        temperature: ``T_vlm``.
    Returns:
        ``[N, K]`` probabilities.
    """
    logits = temperature * F.normalize(region_feats.float(), dim=-1) @ embeddings.float().t()
    return logits.softmax(dim=-1)


def ensemble_scores(det_logits: torch.Tensor, clip_probs: Optional[torch.Tensor], novel: torch.Tensor, *,
                    alpha: float, beta: float) -> torch.Tensor:
    """Geometric ensemble: base classes ``p_det^(1-a) p_clip^a``, novel classes ``p_det^(1-b) p_clip^b``.

    Args:
        det_logits: ``[N, C + 1]`` detector logits (background last); ``p_det = softmax(det_logits)``.
        clip_probs: ``[N, C + 1]`` (:func:`clip_region_probs`) or None (then ``p_det`` is returned).
        novel: ``[C + 1]`` bool, True for novel classes (the background column counts as base).
        alpha, beta: the CLIP weight for base / novel classes.
    Returns:
        ``[N, C + 1]`` scores (not renormalised, as in the published F-ViT).
    """
    p_det = det_logits.float().softmax(dim=-1)
    if clip_probs is None:
        return p_det
    if clip_probs.shape != p_det.shape or novel.shape != p_det.shape[-1:]:
        raise ValueError(f'shapes differ: det {tuple(p_det.shape)}, clip {tuple(clip_probs.shape)}, '
                         f'novel {tuple(novel.shape)}')
    w = torch.where(novel.to(p_det.device), p_det.new_tensor(float(beta)), p_det.new_tensor(float(alpha)))
    return p_det.pow(1 - w) * clip_probs.float().pow(w)
