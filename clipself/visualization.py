"""Pictures of dense CLIP features: PCA colour maps, k-means clusters, text-query similarity heat maps, and the
figure of `tools/visualize_dense.py` (one row per checkpoint)."""
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


def kmeans_labels(dense: torch.Tensor, k: int = 8, *, iters: int = 25, seed: int = 0) -> np.ndarray:
    """Cluster the tokens of ``dense [D, h, w]`` into ``k`` groups (spherical k-means, k-means++ start,
    seeded). Returns ``[h, w]`` int64 cluster ids, numbered by decreasing cluster size."""
    d, h, w = dense.shape
    x = F.normalize(dense.detach().float().flatten(1).T, dim=-1)  # shape: [h*w, D]
    k = max(1, min(int(k), len(x)))
    g = torch.Generator().manual_seed(seed)
    centres = x[torch.randint(len(x), (1,), generator=g)]
    for _ in range(1, k):  # k-means++ on cosine distance
        dist = (1 - (x @ centres.T).max(1).values).clamp_min(0) + 1e-12
        centres = torch.cat([centres, x[torch.multinomial(dist, 1, generator=g)]])
    for _ in range(iters):
        assign = (x @ centres.T).argmax(1)
        new = torch.zeros_like(centres).index_add_(0, assign, x)
        empty = new.norm(dim=1) == 0
        new[empty] = centres[empty]
        centres = F.normalize(new, dim=-1)
    assign = (x @ centres.T).argmax(1)
    order = torch.argsort(torch.bincount(assign, minlength=k), descending=True)
    relabel = torch.empty_like(order)
    relabel[order] = torch.arange(k)
    return relabel[assign].reshape(h, w).numpy()


def cluster_rgb(labels: np.ndarray) -> np.ndarray:
    """``[h, w]`` cluster ids -> ``[h, w, 3]`` uint8 with a fixed qualitative palette (tab20)."""
    from matplotlib import colormaps
    palette = (np.asarray(colormaps['tab20'].colors)[:, :3] * 255).astype(np.uint8)
    return palette[np.asarray(labels) % len(palette)]


def to_image_grid(values: torch.Tensor, patch: int, valid_hw, image_hw, *, smooth: bool) -> np.ndarray:
    """A token-grid map ``[h, w]`` or ``[h, w, C]`` of a ``resize_pad`` input -> the original image's
    ``image_hw`` (patch upsampling, the padding cut off at ``valid_hw`` dense pixels, then resized);
    bilinear when ``smooth`` else nearest."""
    v = torch.as_tensor(values).float()
    chw = v[None] if v.dim() == 2 else v.permute(2, 0, 1)
    mode = dict(mode='bilinear', align_corners=False) if smooth else dict(mode='nearest')
    up = F.interpolate(chw[None], scale_factor=patch, **mode)[0][:, :valid_hw[0], :valid_hw[1]]
    out = F.interpolate(up[None], size=tuple(image_hw), **mode)[0]
    return (out[0] if v.dim() == 2 else out.permute(1, 2, 0)).numpy()


def dense_views(model, image, *, size: int, text_embeddings: torch.Tensor = None, colour: str = 'pca',
                clusters: int = 8) -> dict:
    """What :func:`save_dense_figure` draws for one model and one image.

    Args:
        model: a ``DenseCLIP``. image: PIL image or ``[H, W, 3]`` uint8. size: the dense input size.
        text_embeddings: ``[Q, D]`` embeddings of the text queries (``build_text_embeddings``), or None.
        colour: ``'pca'`` (3 principal components -> RGB) or ``'kmeans'`` (``clusters`` spherical k-means).
    Returns:
        ``{'colour': [H, W, 3] uint8, 'similarity': [Q, H, W] float32 cosine, 'grid': (h, w)}`` at the image's
        resolution (the padding removed).
    """
    from .data.transforms import resize_pad, to_pil
    if colour not in ('pca', 'kmeans'):
        raise ValueError(f"colour must be 'pca' or 'kmeans', got {colour!r}")
    pil = to_pil(image)
    hw = (pil.height, pil.width)
    x, scale = resize_pad(pil, size)
    p = model.patch_size[0]
    dev = model.device
    with torch.no_grad():
        dense = model.encode_dense(model.normalize_pixels(x[None].to(dev)))[0].float().cpu()
    valid = (min(size, round(hw[0] * scale)), min(size, round(hw[1] * scale)))
    gh, gw = -(-valid[0] // p), -(-valid[1] // p)  # tokens that see the image (ceil)
    dense = dense[:, :gh, :gw]
    rgb = pca_rgb(dense) if colour == 'pca' else cluster_rgb(kmeans_labels(dense, clusters))
    out = {'colour': to_image_grid(torch.from_numpy(rgb.astype(np.float32)), p, valid, hw, smooth=False)
           .round().clip(0, 255).astype(np.uint8), 'grid': (gh, gw)}
    sims = [to_image_grid(torch.from_numpy(similarity_map(dense, t)), p, valid, hw, smooth=True)
            for t in (text_embeddings.float().cpu() if text_embeddings is not None else [])]
    out['similarity'] = np.stack(sims).astype(np.float32) if sims else np.zeros((0, *hw), np.float32)
    return out


def save_dense_figure(path: str, image, rows, queries=(), *, colour: str = 'pca') -> str:
    """One row per model: the image | dense-feature colours | one cosine-similarity heat map per query over
    the image. ``rows``: ``[(label, dense_views(...)), ...]``. Each heat map has its own colour range (its
    1st-99th percentile), printed in its title. Writes a PNG; returns ``path``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    img = np.asarray(image.convert('RGB') if hasattr(image, 'convert') else image)
    ncol = 2 + len(queries)
    aspect = img.shape[0] / img.shape[1]
    fig, axes = plt.subplots(len(rows), ncol, figsize=(3.2 * ncol, 3.2 * aspect * len(rows) + 0.6), squeeze=False)
    colour_title = 'dense features: PCA -> RGB' if colour == 'pca' else 'dense features: k-means clusters'
    for r, (label, views) in enumerate(rows):
        ax = axes[r]
        ax[0].imshow(img)
        ax[0].set_ylabel(label, fontsize=9)
        ax[1].imshow(views['colour'])
        ax[1].set_title(colour_title if r == 0 else '', fontsize=9)
        for q, query in enumerate(queries):
            sim = views['similarity'][q]
            lo, hi = np.percentile(sim, 1), np.percentile(sim, 99)
            ax[2 + q].imshow(img)
            ax[2 + q].imshow(sim, cmap='inferno', alpha=0.6, vmin=lo, vmax=max(hi, lo + 1e-6))
            ax[2 + q].set_title(f'"{query}"  cos {lo:.2f}..{hi:.2f}', fontsize=9)
        for a in ax:
            a.set_xticks([])
            a.set_yticks([])
    axes[0][0].set_title('image', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
