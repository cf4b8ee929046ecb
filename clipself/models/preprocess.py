"""Pixel normalisation of CLIP inputs: the one place that turns image tensors into what a tower reads."""
from typing import Sequence

import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

# open_clip's constants: the mean/std of OpenAI CLIP, which EVA-CLIP and most open_clip models share
CLIP_MEAN: Sequence[float] = tuple(OPENAI_DATASET_MEAN)
CLIP_STD: Sequence[float] = tuple(OPENAI_DATASET_STD)


def normalize_pixels(image: torch.Tensor, mean: Sequence[float] = CLIP_MEAN,
                     std: Sequence[float] = CLIP_STD) -> torch.Tensor:
    """``[..., 3, H, W]`` uint8 (0-255) or float (0-1) -> float32 ``(x - mean) / std``, same shape."""
    x = image.float() / 255.0 if not image.is_floating_point() else image.float()
    m = torch.tensor(mean, device=x.device).view(3, 1, 1)
    s = torch.tensor(std, device=x.device).view(3, 1, 1)
    return (x - m) / s
