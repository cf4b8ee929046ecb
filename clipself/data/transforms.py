"""Image transforms of the CLIPSelf recipe, on tensors.

- :func:`resize_pad`: the student / dense input: resize so the longest side is ``size``, pad right and
  bottom with 0 to ``size x size``; boxes scale with the image (no offset).
- :func:`crop_resize_pad`: a teacher crop: cut a box out of the original image, resize it keeping the
  aspect ratio so the long side is ``size``, pad it centred with 0 to a square.
- :func:`normalize`: CLIP mean/std normalisation.
Padding uses pixel value 0 (black) before normalisation, as open_clip's resize-max-size transform does.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def to_tensor(image) -> torch.Tensor:
    """``[H, W, 3]`` uint8 numpy/PIL -> ``[3, H, W]`` uint8 tensor."""
    t = torch.as_tensor(__import__('numpy').asarray(image))
    if t.dim() != 3 or t.shape[-1] != 3:
        raise ValueError(f'expected an [H, W, 3] RGB image, got {tuple(t.shape)}')
    return t.permute(2, 0, 1).contiguous()


def normalize(image: torch.Tensor, mean: Sequence[float] = OPENAI_MEAN,
              std: Sequence[float] = OPENAI_STD) -> torch.Tensor:
    """``[..., 3, H, W]`` uint8 (0-255) or float (0-1) -> float32 normalised."""
    x = image.float() / 255.0 if not image.is_floating_point() else image.float()
    m = torch.tensor(mean, device=x.device).view(3, 1, 1)
    s = torch.tensor(std, device=x.device).view(3, 1, 1)
    return (x - m) / s


def resize_pad(image: torch.Tensor, size: int) -> Tuple[torch.Tensor, float]:
    """``[3, H, W]`` -> ``([3, size, size], scale)``: longest side resized to ``size`` (bicubic, antialiased),
    right/bottom padded with 0. A box ``b`` (xyxy pixels) of the input is ``b * scale`` in the output."""
    h, w = image.shape[-2:]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    out = TF.resize(image, [nh, nw], interpolation=TF.InterpolationMode.BICUBIC, antialias=True)
    out = F.pad(out, (0, size - nw, 0, size - nh), value=0)
    return out, scale


def crop_resize_pad(image: torch.Tensor, box: Sequence[float], size: int) -> torch.Tensor:
    """Teacher crop: ``image [3, H, W]``, ``box`` xyxy pixels -> ``[3, size, size]`` (long side = ``size``,
    centred, 0-padded). The box is rounded outwards to whole pixels and clipped to the image."""
    h, w = image.shape[-2:]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(w, int(-(-box[2] // 1))), min(h, int(-(-box[3] // 1)))
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f'box {list(box)} is empty inside the {h}x{w} image')
    crop = image[:, y1:y2, x1:x2]
    ch, cw = crop.shape[-2:]
    scale = size / max(ch, cw)
    nh, nw = max(1, round(ch * scale)), max(1, round(cw * scale))
    crop = TF.resize(crop, [nh, nw], interpolation=TF.InterpolationMode.BICUBIC, antialias=True)
    top, left = (size - nh) // 2, (size - nw) // 2
    return F.pad(crop, (left, size - nw - left, top, size - nh - top), value=0)


def enlarge_box(box: Sequence[float], factor: float, image_hw: Sequence[int]) -> Tuple[float, float, float, float]:
    """Scale an xyxy box about its centre by ``factor`` and clip it to ``image_hw = (H, W)``."""
    x1, y1, x2, y2 = [float(v) for v in box]
    cx, cy, hw, hh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * factor / 2, (y2 - y1) * factor / 2
    h, w = image_hw
    return max(0.0, cx - hw), max(0.0, cy - hh), min(float(w), cx + hw), min(float(h), cy + hh)
