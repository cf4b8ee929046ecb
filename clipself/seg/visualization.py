"""A segmentation drawn over its image, with a legend of the classes present (demo pictures)."""
import os
from typing import Optional, Sequence

import numpy as np


def class_palette(num_classes: int, seed: int = 3) -> np.ndarray:
    """``[C, 3]`` uint8 distinct-ish colours (fixed for a given ``num_classes`` and ``seed``)."""
    rng = np.random.default_rng(seed)
    hues = (np.arange(num_classes) * 0.618033988749895 + rng.random()) % 1.0
    import colorsys
    return np.array([[int(255 * c) for c in colorsys.hsv_to_rgb(h, 0.75, 0.95)] for h in hues], np.uint8)


def save_overlay(path: str, image_rgb: np.ndarray, labels: np.ndarray, class_names: Sequence[str], *,
                 palette: Optional[np.ndarray] = None, alpha: float = 0.55, title: Optional[str] = None,
                 ignore_index: int = 255) -> None:
    """Write ``image_rgb [H, W, 3]`` uint8 with ``labels [H, W]`` (class indices) blended over it in the
    ``palette`` colours and a legend listing each class present with its share of the pixels, as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    if image_rgb.shape[:2] != labels.shape:
        raise ValueError(f'image {image_rgb.shape[:2]} and labels {labels.shape} differ in size')
    pal = class_palette(len(class_names)) if palette is None else np.asarray(palette, np.uint8)
    valid = labels != ignore_index
    colour = np.zeros_like(image_rgb)
    colour[valid] = pal[labels[valid]]
    blend = image_rgb.astype(np.float32)
    blend[valid] = (1 - alpha) * blend[valid] + alpha * colour[valid]
    h, w = labels.shape
    fig, ax = plt.subplots(figsize=(min(12.0, 2 + 6.0 * w / max(h, 1)), 6.0), dpi=100)
    ax.imshow(blend.astype(np.uint8))
    ax.axis('off')
    present, counts = np.unique(labels[valid], return_counts=True)
    order = np.argsort(-counts)
    handles = [Patch(color=pal[present[i]] / 255.0, label=f'{class_names[present[i]]} ({100 * counts[i] / labels.size:.0f}%)')
               for i in order]
    if handles:
        ax.legend(handles=handles, loc='upper left', bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
