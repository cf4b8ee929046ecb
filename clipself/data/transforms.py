"""Image transforms of the CLIPSelf recipe, on PIL images (as the reference does, so pixels agree).

- :func:`resize_pad`: the student / dense input: resize so the longest side is ``size`` (PIL bicubic),
  pad right and bottom with 0 to ``size x size``; a box scales with the image (no offset).
- :func:`crop_resize_pad`: a teacher crop: cut a box out of the ORIGINAL image (PIL rounds the box to
  whole pixels), resize it keeping the aspect ratio so the long side is ``size``, pad it centred with 0.
- ``normalize``: uint8 ``[.., 3, H, W]`` -> CLIP mean/std normalised float
  (:func:`clipself.models.preprocess.normalize_pixels`; ``DenseCLIP.normalize_pixels`` uses the model's own).
Padding is pixel value 0 (black) before normalisation, as open_clip's resize-longest transforms do.
"""
from typing import Sequence, Tuple, Union

import numpy as np
import torch
from PIL import Image

from ..models.preprocess import normalize_pixels as normalize  # noqa: F401  (the one normalisation)

ImageLike = Union[Image.Image, np.ndarray]


def to_pil(image: ImageLike) -> Image.Image:
    """``[H, W, 3]`` uint8 array or PIL image -> RGB PIL image."""
    if isinstance(image, Image.Image):
        return image.convert('RGB') if image.mode != 'RGB' else image
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise ValueError(f'expected an [H, W, 3] uint8 RGB image, got {arr.shape} {arr.dtype}')
    return Image.fromarray(arr)


def to_tensor(image: ImageLike) -> torch.Tensor:
    """RGB image -> ``[3, H, W]`` uint8 tensor."""
    return torch.from_numpy(np.array(to_pil(image), dtype=np.uint8)).permute(2, 0, 1).contiguous()


def _resize_longest(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    scale = size / float(max(h, w))
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    return img.resize((nw, nh), Image.BICUBIC)


def resize_pad(image: ImageLike, size: int) -> Tuple[torch.Tensor, float]:
    """Student input: ``image`` (H x W) -> ``([3, size, size] uint8, scale)``; longest side resized to
    ``size``, right/bottom padded with 0. A box ``b`` (xyxy pixels) of the input is ``b * scale`` after."""
    img = to_pil(image)
    w, h = img.size
    scale = size / float(max(h, w))
    out = torch.zeros(3, size, size, dtype=torch.uint8)
    r = to_tensor(_resize_longest(img, size))
    out[:, :r.shape[1], :r.shape[2]] = r
    return out, scale


def crop_resize_pad(image: ImageLike, box: Sequence[float], size: int) -> torch.Tensor:
    """Teacher crop: ``box`` xyxy pixels of ``image`` -> ``[3, size, size]`` uint8 (long side ``size``,
    centred, 0-padded). The box is rounded to whole pixels (PIL's crop), keeping at least one pixel."""
    img = to_pil(image)
    if not (float(box[2]) > float(box[0]) and float(box[3]) > float(box[1])):
        raise ValueError(f'box {list(box)} is empty (expected xyxy with x2 > x1, y2 > y1)')
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    x2, y2 = max(x2, x1 + 1), max(y2, y1 + 1)  # at least one pixel after rounding
    crop = _resize_longest(img.crop((x1, y1, x2, y2)), size)
    cw, ch = crop.size
    out = torch.zeros(3, size, size, dtype=torch.uint8)
    top, left = (size - ch) // 2, (size - cw) // 2
    out[:, top:top + ch, left:left + cw] = to_tensor(crop)
    return out


def enlarge_boxes(boxes: np.ndarray, factor: float, image_hw: Sequence[int]) -> np.ndarray:
    """``[K, 4]`` xyxy boxes scaled ``factor`` times about their centres, clipped to ``image_hw = (H, W)``;
    computed in the boxes' floating dtype (integers: float64), returned in it."""
    boxes = np.asarray(boxes)
    if not np.issubdtype(boxes.dtype, np.floating):
        boxes = boxes.astype(np.float64)
    h, w = image_hw
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * factor / 2
    out = np.concatenate([c - half, c + half], 1)
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, w)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, h)
    return out


def enlarge_box(box: Sequence[float], factor: float, image_hw: Sequence[int]) -> Tuple[float, float, float, float]:
    """One xyxy box: :func:`enlarge_boxes` in float64."""
    x1, y1, x2, y2 = enlarge_boxes(np.array([box], np.float64), factor, image_hw)[0].tolist()
    return x1, y1, x2, y2
