"""Pictures of dense CLIP features: PCA colour maps and text-query similarity heat maps (numpy out)."""
import numpy as np
import torch
import torch.nn.functional as F


def pca_rgb(dense: torch.Tensor, *, basis: torch.Tensor = None) -> np.ndarray:
    """Colour each token by the first 3 principal components of the features.

    Args:
        dense: ``[D, h, w]`` features of one image.
        basis: optional ``[D, 3]`` projection to reuse (so two maps share colours); default: this map's PCA.
    Returns:
        ``[h, w, 3]`` uint8.
    """
    d, h, w = dense.shape
    x = dense.detach().float().flatten(1).T  # shape: [h*w, D]
    x = x - x.mean(0, keepdim=True)
    if basis is None:
        basis = pca_basis(dense)
    y = x @ basis  # shape: [h*w, 3]
    lo, hi = y.quantile(0.01, dim=0), y.quantile(0.99, dim=0)
    y = ((y - lo) / (hi - lo).clamp_min(1e-6)).clamp(0, 1)
    return (y.reshape(h, w, 3).numpy() * 255).astype(np.uint8)


def pca_basis(dense: torch.Tensor) -> torch.Tensor:
    """``[D, h, w]`` -> ``[D, 3]`` top principal directions."""
    x = dense.detach().float().flatten(1).T
    x = x - x.mean(0, keepdim=True)
    _, _, v = torch.linalg.svd(x, full_matrices=False)
    return v[:3].T


def similarity_map(dense: torch.Tensor, text_embedding: torch.Tensor, out_hw=None) -> np.ndarray:
    """Cosine similarity between a ``[D]`` text embedding and every token of ``dense [D, h, w]``,
    optionally upsampled (bilinear) to ``out_hw``. Returns ``[h, w]`` (or ``out_hw``) float32."""
    sim = torch.einsum('dhw,d->hw', F.normalize(dense.float(), dim=0), F.normalize(text_embedding.float(), dim=0))
    if out_hw is not None:
        sim = F.interpolate(sim[None, None], size=tuple(out_hw), mode='bilinear', align_corners=False)[0, 0]
    return sim.numpy().astype(np.float32)
