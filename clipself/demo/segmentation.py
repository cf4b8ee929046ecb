"""The demo's segmentation row: training-free semantic segmentation of generated scenes (8 shapes + the two
background textures) with the original and the distilled CLIP, and ``segmentation.png``."""
import os
from typing import Callable, Dict, Sequence

import numpy as np

from .settings import MODEL

SEG_SEED_OFFSET = 1000  # the segmentation scenes come from their own random stream, not the training world's


def segmentation_row(out_dir: str, clips: Dict[str, str], *, num_images: int, seed: int,
                     log: Callable[[str], None], model_name: str = MODEL) -> Dict[str, float]:
    """mIoU (%) of each CLIP file in ``clips`` (tag -> path, e.g. ``before`` / ``after``) on ``num_images``
    generated scenes, whole-image inference with CLIPSelf's attention-free last block; returns
    ``{'seg.{tag}.miou': float}`` and draws the first scenes of every tag into ``{out_dir}/segmentation.png``."""
    from ..evaluation.segmentation import SEMANTIC_CLASSES, synthetic_semantic_miou
    from ..models import build_clip
    from ..models.text import build_text_embeddings
    res, runs, text = {}, {}, None
    for tag, path in clips.items():
        model = build_clip(model_name, pretrained=path)
        if text is None:  # the text tower is frozen during distillation: one set of class embeddings serves all
            text = build_text_embeddings(model, list(SEMANTIC_CLASSES))
        runs[tag] = synthetic_semantic_miou(model, text, num_images=num_images, seed=seed + SEG_SEED_OFFSET,
                                            return_predictions=True)
        res[f'seg.{tag}.miou'] = runs[tag]['miou']
        log(f'[demo] training-free segmentation, {tag}: mIoU {runs[tag]["miou"]:.1f} on {num_images} scenes '
            f'({runs[tag]["seconds"]:.0f} s)')
    save_segmentation_figure(os.path.join(out_dir, 'segmentation.png'), runs, SEMANTIC_CLASSES)
    return res


def save_segmentation_figure(path: str, runs: Dict[str, dict], class_names: Sequence[str], num: int = 3) -> None:
    """One row per scene: the image, its ground truth, then each run's prediction (``runs``: tag -> the output
    of ``synthetic_semantic_miou(..., return_predictions=True)``, all on the same scenes); one legend."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    first = next(iter(runs.values()))
    images, labels = first['images'], first['labels']
    palette = (np.array(plt.get_cmap('tab10').colors[:len(class_names)]) * 255).astype(np.uint8)
    titles = {'before': 'original CLIP', 'after': 'after CLIPSelf'}
    cols = ['image', 'ground truth'] + [f"{titles.get(t, t)} ({r['miou']:.1f} mIoU)" for t, r in runs.items()]
    num = min(num, len(images))
    fig, axes = plt.subplots(num, len(cols), figsize=(2.2 * len(cols), 2.2 * num + 0.6), squeeze=False)
    for i in range(num):
        tiles = [images[i], palette[labels[i]]] + [palette[r['predictions'][i]] for r in runs.values()]
        for j, tile in enumerate(tiles):
            axes[i, j].imshow(tile)
            axes[i, j].axis('off')
            if i == 0:
                axes[i, j].set_title(cols[j], fontsize=8)
    handles = [Patch(color=palette[k] / 255.0, label=name) for k, name in enumerate(class_names)]
    fig.legend(handles=handles, loc='lower center', ncol=5, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
