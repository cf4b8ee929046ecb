"""A small generated world for tests and demos: coloured shapes on textured backgrounds.

Every scene comes with what the real pipeline reads from COCO: boxes (xyxy, pixels), instance masks,
category ids, and a caption-like class name per object. Deterministic for a given seed.
"""
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import numpy as np

SHAPES = ('circle', 'square', 'triangle', 'diamond', 'cross', 'ring', 'bar', 'star')
BACKGROUNDS = ('stripes', 'blotches')  # the "stuff" classes of the generated world
COLOURS = {'red': (220, 40, 40), 'green': (40, 180, 60), 'blue': (40, 80, 220), 'yellow': (230, 210, 40)}


@dataclass
class Scene:
    """One generated image.

    Attributes:
        image: ``[H, W, 3]`` uint8 RGB.
        boxes: ``[K, 4]`` float32 xyxy in pixels (tight around each mask).
        masks: ``[K, H, W]`` bool, visible part of each object (later objects occlude earlier ones).
        labels: ``[K]`` int64 indices into ``SHAPES``.
        background: index into ``BACKGROUNDS`` of the texture behind the objects.
    """
    image: np.ndarray
    boxes: np.ndarray
    masks: np.ndarray
    labels: np.ndarray
    names: List[str] = field(default_factory=list)
    background: int = 0


def shape_mask(shape: str, size: int) -> np.ndarray:
    """``[size, size]`` bool mask of ``shape`` filling its square."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    c = (size - 1) / 2.0
    u, v = (xx - c) / (size / 2.0), (yy - c) / (size / 2.0)  # in [-1, 1]
    if shape == 'circle':
        return u ** 2 + v ** 2 <= 0.9
    if shape == 'square':
        return (np.abs(u) <= 0.8) & (np.abs(v) <= 0.8)
    if shape == 'triangle':
        return (v <= 0.85) & (v >= -0.85 + 1.7 * np.abs(u) * 1.0) & (np.abs(u) <= 0.9)
    if shape == 'diamond':
        return np.abs(u) + np.abs(v) <= 0.95
    if shape == 'cross':
        return ((np.abs(u) <= 0.28) | (np.abs(v) <= 0.28)) & (np.abs(u) <= 0.95) & (np.abs(v) <= 0.95)
    if shape == 'ring':
        r = u ** 2 + v ** 2
        return (r <= 0.9) & (r >= 0.35)
    if shape == 'bar':
        return (np.abs(u) <= 0.95) & (np.abs(v) <= 0.3)
    if shape == 'star':
        ang = np.arctan2(v, u)
        rad = np.sqrt(u ** 2 + v ** 2)
        return rad <= 0.45 + 0.45 * (np.cos(5 * ang) > 0.3)
    raise ValueError(f'unknown shape {shape!r}; known: {SHAPES}')


def _background(rng: np.random.Generator, h: int, w: int):
    """Low-contrast texture: a random base colour with stripes or blotches and noise -> (image, kind)."""
    base = rng.integers(60, 200, size=3).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    kind = int(rng.random() >= 0.5)  # 0: stripes, 1: blotches
    if kind == 0:
        period = rng.uniform(6, 20)
        theta = rng.uniform(0, np.pi)
        pattern = np.sin((xx * np.cos(theta) + yy * np.sin(theta)) * 2 * np.pi / period)
    else:
        coarse = rng.normal(size=(max(h // 16, 1) + 1, max(w // 16, 1) + 1))
        pattern = np.kron(coarse, np.ones((16, 16)))[:h, :w]
    img = base[None, None] + 25 * pattern[..., None] + rng.normal(0, 6, size=(h, w, 3))
    return img, kind


def make_scene(rng: np.random.Generator, *, size: Tuple[int, int] = (192, 192), num_objects: Tuple[int, int] = (1, 4),
               object_size: Tuple[int, int] = (28, 76), classes: Sequence[str] = SHAPES) -> Scene:
    """A scene with ``num_objects`` (inclusive range) shapes of side ``object_size`` px (inclusive range)."""
    h, w = size
    img, background = _background(rng, h, w)
    n = int(rng.integers(num_objects[0], num_objects[1] + 1))
    masks, labels, names = [], [], []
    for _ in range(n):
        s = int(rng.integers(object_size[0], min(object_size[1], h, w) + 1))
        label = int(rng.integers(len(classes)))
        colour_name = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        y0, x0 = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
        full = np.zeros((h, w), dtype=bool)
        full[y0:y0 + s, x0:x0 + s] = shape_mask(classes[label], s)
        img[full] = np.asarray(COLOURS[colour_name], np.float32) + rng.normal(0, 8, size=(int(full.sum()), 3))
        for m in masks:  # occlusion: later objects cover earlier ones
            m &= ~full
        masks.append(full)
        labels.append(label)
        names.append(f'{colour_name} {classes[label]}')
    keep = [i for i, m in enumerate(masks) if m.sum() >= 16]
    masks = [masks[i] for i in keep]
    boxes = []
    for m in masks:
        ys, xs = np.nonzero(m)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    return Scene(image=np.clip(img, 0, 255).astype(np.uint8),
                 boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
                 masks=np.stack(masks) if masks else np.zeros((0, h, w), bool),
                 labels=np.asarray([labels[i] for i in keep], np.int64),
                 names=[names[i] for i in keep], background=background)
