"""Which regions CLIPSelf distils, per image: grid cells ("image patches") or region proposals.

Boxes are xyxy in ORIGINAL-image pixels; the dataset scales them into the student image.
"""
import math
from typing import List, Sequence, Tuple

import numpy as np

from .transforms import enlarge_boxes

Box = Tuple[float, float, float, float]


def grid_choices(max_split: int = 6) -> List[Tuple[int, int]]:
    """All ``(m, n)`` grids (m rows, n columns) with ``m in 1..max_split`` and
    ``n in [ceil(m / 2), min(2 m, max_split)]``: cells are at most 2:1 either way."""
    return [(m, n) for m in range(1, max_split + 1) for n in range(math.ceil(m / 2), min(2 * m, max_split) + 1)]


def grid_boxes(image_hw: Sequence[int], m: int, n: int) -> np.ndarray:
    """The ``m x n`` grid cells of an ``H x W`` image: ``[m * n, 4]`` float32 xyxy, row-major."""
    h, w = image_hw
    xs = np.linspace(0, 1, n + 1, dtype=np.float32) * w
    ys = np.linspace(0, 1, m + 1, dtype=np.float32) * h
    x0, y0 = np.meshgrid(xs[:-1], ys[:-1])
    x1, y1 = np.meshgrid(xs[1:], ys[1:])
    return np.stack([x0, y0, x1, y1], -1).reshape(-1, 4)


def sample_grid(rng: np.random.Generator, image_hw: Sequence[int], *, max_split: int = 6,
                max_boxes: int = 20) -> np.ndarray:
    """Image-patch variant: a grid drawn uniformly from :func:`grid_choices`, its cells shuffled, at most
    ``max_boxes`` kept. Returns ``[K, 4]`` xyxy (teacher crop == student box)."""
    choices = grid_choices(max_split)
    m, n = choices[int(rng.integers(len(choices)))]
    boxes = grid_boxes(image_hw, m, n)
    return boxes[rng.permutation(len(boxes))[:max_boxes]]


def sample_proposals(rng: np.random.Generator, proposals: np.ndarray, image_hw: Sequence[int], *,
                     max_boxes: int = 20, min_size: float = 8, max_size: float = 1024,
                     crop_scale: float = 1.5) -> Tuple[np.ndarray, np.ndarray]:
    """Region-proposal variant, as the reference samples them: shuffle the image's proposals, take the
    first ``max_boxes``, keep those with area in ``[min_size^2, max_size^2]``.

    Args:
        proposals: ``[P, 4]`` xyxy pixels.
    Returns:
        ``(student_boxes [K, 4], teacher_boxes [K, 4])``: the teacher crops the box enlarged ``crop_scale``
        times about its centre, clipped to the image. If no proposal survives, one fallback box (the
        top-left quarter of the image) keeps the image in the batch.
    """
    h, w = image_hw
    props = np.asarray(proposals, np.float32).reshape(-1, 4)
    props = props[rng.permutation(len(props))[:max_boxes]]
    area = (props[:, 2] - props[:, 0]) * (props[:, 3] - props[:, 1])
    keep = (area >= min_size ** 2) & (area <= max_size ** 2) & (props[:, 2] > props[:, 0]) & (props[:, 3] > props[:, 1])
    props = props[keep]
    if len(props) == 0:
        props = np.array([[0, 0, w / 4, h / 4]], np.float32)
        return props, props.copy()
    return props, enlarge_boxes(props, crop_scale, image_hw).astype(np.float32)
