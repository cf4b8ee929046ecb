"""Calibration inputs for post-training quantisation: each image as a dense-path scene and as a whole-image crop."""
import os
from typing import Callable, List, Sequence

import torch

from ..data.transforms import crop_resize_pad, normalize, resize_pad
from ..models.dense_clip import DenseCLIP

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def calibration_images(folder: str, num: int) -> List[str]:
    """The first ``num`` images (sorted names) of ``folder``; a ``ValueError`` when there are none."""
    if num < 1:
        raise ValueError(f'--calib must be >= 1 (the number of calibration images), got {num}')
    if not os.path.isdir(folder):
        raise FileNotFoundError(f'calibration folder {folder} not found')
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTENSIONS))
    if not paths:
        raise ValueError(f'the calibration set is empty: no {"/".join(IMAGE_EXTENSIONS)} images in {folder}')
    return paths[:num]


def make_calibrate(model: DenseCLIP, paths: Sequence[str], *, dense_size: int, batch: int = 4
                   ) -> Callable[[DenseCLIP], List[torch.Tensor]]:
    """``calibrate(model) -> [image embeddings [N, D], dense features [N, h*w, D]]`` on ``paths``: the whole image
    resized / padded to the CLIP's input size for ``encode_image`` and to ``dense_size`` for ``encode_dense``
    (the two paths every stage uses)."""
    if not paths:
        raise ValueError('the calibration set is empty')
    from PIL import Image
    crop = model.image_size[0]
    scenes, crops = [], []
    for p in paths:
        img = Image.open(p).convert('RGB')
        scenes.append(resize_pad(img, dense_size)[0])
        crops.append(crop_resize_pad(img, (0, 0, img.width, img.height), crop))
    scenes = normalize(torch.stack(scenes), model.image_mean, model.image_std)  # shape: [N, 3, S, S]
    crops = normalize(torch.stack(crops), model.image_mean, model.image_std)    # shape: [N, 3, T, T]

    @torch.no_grad()
    def calibrate(m: DenseCLIP) -> List[torch.Tensor]:
        emb = torch.cat([m.encode_image(c) for c in crops.split(batch)])
        dense = torch.cat([m.encode_dense(s).flatten(2).transpose(1, 2) for s in scenes.split(batch)])
        return [emb, dense]
    return calibrate
