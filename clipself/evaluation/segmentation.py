"""Training-free open-vocabulary semantic segmentation, plain torch (no mm* imports).

The protocol of the training-free literature (MaskCLIP, SCLIP, ClearCLIP, NACLIP):
1. every class is a line of synonyms (``'person, man, woman'``); every synonym is a text query (prompt ensemble);
2. the dense CLIP map is compared with the query embeddings (cosine), the similarities are upsampled to the
   image, multiplied by a logit scale (~40-50) and soft-maxed over all queries;
3. a class scores as its best synonym (the max of its queries' probabilities);
4. with a background class, pixels whose top probability is below a threshold become background.

Step 2's slide inference lives in the mmseg segmentor (``clipself.seg``); this module holds the steps around it,
the mIoU, and the generated-scenes benchmark that ``make demo`` reports (:func:`synthetic_semantic_miou`).
"""
import os
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from ..data.synthetic import BACKGROUNDS, SHAPES, make_scene
from ..data.transforms import normalize

SEMANTIC_CLASSES = tuple(SHAPES) + tuple(BACKGROUNDS)  # the generated world's semantic classes: 8 things + 2 stuff


@dataclass(frozen=True)
class ClassQueries:
    """Classes as lists of synonyms.

    Attributes:
        synonyms: per class its names (``[['person', 'man'], ['sky'], ...]``); the first is the class's name.
        source: where they came from (a file path or ``'list'``), for error messages.
    """
    synonyms: Tuple[Tuple[str, ...], ...]
    source: str = 'list'

    @classmethod
    def from_lines(cls, lines: Sequence[str], source: str = 'list', *, unique: bool = True) -> 'ClassQueries':
        """One class per entry, synonyms comma-separated; blank entries and ``#`` comments skipped. ``unique=False``
        lets classes share a synonym (ADE-847's WordNet names do; a best-synonym classifier cannot use them)."""
        classes = []
        for line in lines:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            names = tuple(n.strip() for n in line.split(',') if n.strip())
            classes.append(names)
        if not classes:
            raise ValueError(f'{source}: empty class list (expected one class per line, synonyms comma-separated)')
        flat = [q for c in classes for q in c]
        dup = sorted({q for q in flat if flat.count(q) > 1}) if unique else []
        if dup:
            raise ValueError(f'{source}: names listed twice {dup[:5]} (each synonym must belong to one class)')
        return cls(synonyms=tuple(classes), source=source)

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike], *, unique: bool = True) -> 'ClassQueries':
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'class-name file {path} not found')
        with open(path, encoding='utf-8') as f:
            return cls.from_lines(f.read().splitlines(), source=path, unique=unique)

    @property
    def names(self) -> List[str]:
        """``[C]`` class names (each class's first synonym)."""
        return [c[0] for c in self.synonyms]

    @property
    def queries(self) -> List[str]:
        """``[Q]`` every synonym of every class, class by class."""
        return [q for c in self.synonyms for q in c]

    @property
    def query_class(self) -> torch.Tensor:
        """``[Q]`` int64: the class index of each query."""
        return torch.tensor([i for i, c in enumerate(self.synonyms) for _ in c], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.synonyms)


def load_class_queries(classes: Union[str, os.PathLike, Sequence[str], ClassQueries], *,
                       unique: bool = True) -> ClassQueries:
    """A class list from the path of a ``.txt`` file (one class per line, synonyms comma-separated) or a list of
    such lines (``['sky', 'road, street', 'car']``); ``unique``: see :meth:`ClassQueries.from_lines`."""
    if isinstance(classes, ClassQueries):
        return classes
    if isinstance(classes, (str, os.PathLike)):
        return ClassQueries.from_file(classes, unique=unique)
    return ClassQueries.from_lines([str(c) for c in classes], unique=unique)


def patch_similarities(dense: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of every patch with every query: ``[B, D, h, w]`` x ``[Q, D]`` -> ``[B, Q, h, w]``
    (both sides L2-normalised here)."""
    dense = F.normalize(dense, dim=1)
    text = F.normalize(text.to(dense.dtype), dim=-1)
    return torch.einsum('bdhw,qd->bqhw', dense, text)


def to_pixels(grid_map: torch.Tensor, image_hw: Sequence[int], patch_size: Sequence[int]) -> torch.Tensor:
    """Upsample a token-grid map ``[B, Q, h, w]`` to ``[B, Q, H, W]`` pixels: bilinear (``align_corners=False``) onto
    the ``h*p x w*p`` pixels the tokens cover, the ``H % p`` / ``W % p`` remainder rows/columns (dropped by the
    tower) filled by replicating the edge."""
    h, w = grid_map.shape[-2:]
    ph, pw = patch_size
    out = F.interpolate(grid_map, size=(h * ph, w * pw), mode='bilinear', align_corners=False)
    pad_b, pad_r = int(image_hw[0]) - h * ph, int(image_hw[1]) - w * pw
    if pad_b or pad_r:
        out = F.pad(out, (0, pad_r, 0, pad_b), mode='replicate')
    return out


def class_probabilities(sims: torch.Tensor, query_class: torch.Tensor, num_classes: int,
                        logit_scale: float) -> torch.Tensor:
    """``softmax(logit_scale * sims)`` over the queries, then each class's best synonym:
    ``[B, Q, H, W]`` -> ``[B, C, H, W]`` (sums to <= 1 per pixel when classes have several synonyms, as in SCLIP/
    NACLIP, so their background thresholds apply unchanged)."""
    probs = (sims * logit_scale).softmax(dim=1)
    if probs.shape[1] == num_classes:
        return probs
    idx = query_class.to(probs.device).view(1, -1, 1, 1).expand_as(probs)
    out = probs.new_zeros(probs.shape[0], num_classes, *probs.shape[2:])
    return out.scatter_reduce_(1, idx, probs, reduce='amax', include_self=False)


def label_map(probs: torch.Tensor, *, bg_threshold: float = 0.0, bg_index: Optional[int] = None) -> torch.Tensor:
    """``[B, C, H, W]`` class probabilities -> ``[B, H, W]`` int64 labels; with ``bg_index``, pixels whose top
    probability is below ``bg_threshold`` become ``bg_index``."""
    top, labels = probs.max(dim=1)
    if bg_index is not None and bg_threshold > 0:
        labels = torch.where(top < bg_threshold, torch.full_like(labels, bg_index), labels)
    return labels


def confusion_matrix(pred: torch.Tensor, gt: torch.Tensor, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    """``[C, C]`` int64 counts, rows = ground truth, columns = prediction; ``ignore_index`` pixels skipped.
    Raises ValueError on ground-truth values outside ``[0, C)`` (other than ``ignore_index``) or shape mismatch."""
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {tuple(pred.shape)} and ground truth {tuple(gt.shape)} differ in size')
    keep = gt != ignore_index
    g, p = gt[keep].long(), pred[keep].long()
    if g.numel() and (int(g.min()) < 0 or int(g.max()) >= num_classes):
        raise ValueError(f'ground-truth labels {sorted(set(g.unique().tolist()) - set(range(num_classes)))[:5]} '
                         f'are outside the {num_classes} classes (ignore index {ignore_index})')
    return torch.bincount(g * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def iou_from_confusion(conf: torch.Tensor) -> Tuple[float, torch.Tensor]:
    """Per-class IoU ``[C]`` (NaN for classes absent from both ground truth and prediction) and their mean over
    the others, in percent: mmseg ``IoUMetric``'s definition."""
    conf = conf.double()
    inter = conf.diag()
    union = conf.sum(0) + conf.sum(1) - inter
    iou = torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(inter, float('nan'))) * 100
    valid = ~iou.isnan()
    return (float(iou[valid].mean()) if valid.any() else float('nan')), iou


# -- the generated world ------------------------------------------------------------------------------------------

def synthetic_semantic_scenes(num_images: int, *, seed: int = 0, size: int = 192
                              ) -> Tuple[np.ndarray, np.ndarray]:
    """Generated scenes (:func:`clipself.data.synthetic.make_scene`) with semantic masks over
    :data:`SEMANTIC_CLASSES`: a shape's visible pixels get its shape index (0..7), the rest the texture's
    (8 stripes, 9 blotches). Returns ``(images [N, H, W, 3] uint8, labels [N, H, W] int64)``."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(num_images):
        scene = make_scene(rng, size=(size, size))
        lab = np.full((size, size), len(SHAPES) + scene.background, np.int64)
        for mask, label in zip(scene.masks, scene.labels):
            lab[mask] = label
        images.append(scene.image)
        labels.append(lab)
    return np.stack(images), np.stack(labels)


@torch.no_grad()
def segment_images(model, images: torch.Tensor, class_embeddings: torch.Tensor, *,
                   query_class: Optional[torch.Tensor] = None, logit_scale: float = 50.0, last_block=None
                   ) -> torch.Tensor:
    """Whole-image training-free segmentation: ``[B, 3, H, W]`` CLIP-normalised pixels and ``[Q, D]`` query
    embeddings -> ``[B, C, H, W]`` class probabilities (``query_class [Q]``: class of each query; default one query
    per class). ``last_block``: a :class:`~clipself.models.last_block.LastBlock` (default CLIPSelf's)."""
    dense = model.encode_dense(images, last_block=last_block)  # shape: [B, D, h, w]
    sims = to_pixels(patch_similarities(dense, class_embeddings), images.shape[-2:], model.patch_size)
    if query_class is None:
        query_class = torch.arange(class_embeddings.shape[0])
    return class_probabilities(sims, query_class, int(query_class.max()) + 1, logit_scale)


def synthetic_semantic_miou(model, class_embeddings: torch.Tensor, *, num_images: int = 40, seed: int = 0,
                            size: int = 192, batch_size: int = 8, logit_scale: float = 50.0, last_block=None,
                            return_predictions: bool = False) -> Dict:
    """Training-free mIoU of a DenseCLIP on the generated scenes' semantic masks (things + the two textures).

    Args:
        model: a :class:`~clipself.models.DenseCLIP` (e.g. the demo CLIP before or after CLIPSelf).
        class_embeddings: ``[10, D]`` text embeddings of :data:`SEMANTIC_CLASSES`, in that order.
        num_images, seed, size: the scenes (:func:`synthetic_semantic_scenes`); the whole scene is one input.
    Returns:
        ``{'miou': float (percent), 'iou': {class: float}, 'num_images', 'seconds'}``, plus ``'images'``,
        ``'labels'``, ``'predictions'`` (numpy) with ``return_predictions``.
    """
    if class_embeddings.shape[0] != len(SEMANTIC_CLASSES):
        raise ValueError(f'class_embeddings must have one row per class of {SEMANTIC_CLASSES}, '
                         f'got {tuple(class_embeddings.shape)}')
    t0 = time.time()
    images, labels = synthetic_semantic_scenes(num_images, seed=seed, size=size)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    conf = torch.zeros(len(SEMANTIC_CLASSES), len(SEMANTIC_CLASSES), dtype=torch.long)
    preds = []
    try:
        for s in range(0, num_images, batch_size):
            x = torch.from_numpy(images[s:s + batch_size]).permute(0, 3, 1, 2).to(device)
            x = normalize(x, model.image_mean, model.image_std)
            probs = segment_images(model, x, class_embeddings.to(device), logit_scale=logit_scale,
                                   last_block=last_block)
            pred = label_map(probs).cpu()
            conf += confusion_matrix(pred, torch.from_numpy(labels[s:s + batch_size]), len(SEMANTIC_CLASSES))
            preds.append(pred.numpy())
    finally:
        model.train(was_training)
    miou, iou = iou_from_confusion(conf)
    out = dict(miou=miou, iou={n: float(v) for n, v in zip(SEMANTIC_CLASSES, iou)}, num_images=num_images,
               seconds=time.time() - t0)
    if return_predictions:
        out.update(images=images, labels=labels, predictions=np.concatenate(preds))
    return out
