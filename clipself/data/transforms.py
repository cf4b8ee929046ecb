"""Image transforms of the CLIPSelf recipe, on PIL images (as the reference does, so pixels agree).

- :func:`resize_pad`: the student / dense input: resize so the longest side is ``size`` (PIL bicubic),
  pad right and bottom with 0 to ``size x size``; a box scales with the image (no offset).
- :func:`crop_resize_pad`: a teacher crop: cut a box out of the ORIGINAL image (PIL rounds the box to
  whole pixels), resize it keeping the aspect ratio so the long side is ``size``, pad it centred with 0.
- :func:`normalize`: uint8 ``[.., 3, H, W]`` -> CLIP mean/std normalised float.
Padding is pixel value 0 (black) before normalisation, as open_clip's resize-longest transforms do.
"""
from typing import Sequence, Tuple, Union

import numpy as np
import torch
from PIL import Image

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)

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


def normalize(image: torch.Tensor, mean: Sequence[float] = OPENAI_MEAN,
              std: Sequence[float] = OPENAI_STD) -> torch.Tensor:
    """``[..., 3, H, W]`` uint8 (0-255) or float (0-1) -> float32 normalised."""
    x = image.float() / 255.0 if not image.is_floating_point() else image.float()
    m = torch.tensor(mean, device=x.device).view(3, 1, 1)
    s = torch.tensor(std, device=x.device).view(3, 1, 1)
    return (x - m) / s


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


def enlarge_box(box: Sequence[float], factor: float, image_hw: Sequence[int]) -> Tuple[float, float, float, float]:
    """Scale an xyxy box about its centre by ``factor`` and clip it to ``image_hw = (H, W)``."""
    x1, y1, x2, y2 = [float(v) for v in box]
    cx, cy, hw, hh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * factor / 2, (y2 - y1) * factor / 2
    h, w = image_hw
    return max(0.0, cx - hw), max(0.0, cy - hh), min(float(w), cx + hw), min(float(h), cy + hh)
