"""Which files are images (the one list of extensions), listing the images of a folder, and reading them for the
training sets (an unreadable file is skipped with a warning and replaced, so a run never stops on one)."""
import logging
import os
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from PIL import Image

logger = logging.getLogger(__name__)

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


def image_names(folder: str) -> List[str]:
    """The file names (not paths) of the images in ``folder``, sorted; matched by extension, any case."""
    return sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTS))


def list_images(path: str) -> List[str]:
    """An image file -> ``[path]``; a folder -> the paths of its images (sorted). Raises FileNotFoundError
    for a missing path or a folder without images (naming the extensions looked for)."""
    if os.path.isdir(path):
        files = [os.path.join(path, n) for n in image_names(path)]
        if not files:
            raise FileNotFoundError(f'no images ({", ".join(IMAGE_EXTS)}) in {path}')
        return files
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} not found')
    return [path]


def read_rgb(path: str) -> Optional[Image.Image]:
    """The RGB image at ``path``, or None (with a warning naming the file and the cause) when it is missing,
    unreadable, or smaller than 10 px on a side."""
    try:
        with Image.open(path) as im:
            img = im.convert('RGB')
    except Exception as e:  # missing, truncated, not an image
        logger.warning('skipping unreadable image %s (%s: %s)', path, type(e).__name__, e)
        return None
    if min(img.size) < 10:
        logger.warning('skipping image %s of size %s (smaller than 10 px)', path, img.size)
        return None
    return img


def read_item(img_dir: str, images: Sequence[dict], idx: int,
              seed: int) -> Tuple[Image.Image, int, int, np.random.Generator]:
    """Read item ``idx`` of a training set (``images[idx]['file_name']`` under ``img_dir``); an unreadable one is
    replaced by a random other item. Returns ``(image, index read, number of items skipped, rng)``: ``rng`` is the
    item's generator, seeded by ``(seed, idx)`` and a salt from torch's RNG (which the DataLoader seeds per epoch
    and worker: draws change every epoch yet a seeded run repeats); it also serves the item's other draws.
    Raises RuntimeError after more than 100 unreadable files in a row."""
    rng = np.random.default_rng((seed, idx, int(torch.randint(0, 2 ** 31 - 1, (1,)))))
    skipped = 0
    img = read_rgb(os.path.join(img_dir, images[idx]['file_name']))
    while img is None:
        skipped += 1
        if skipped > 100:
            raise RuntimeError(f'more than 100 unreadable images in a row under {img_dir}')
        idx = int(rng.integers(len(images)))
        img = read_rgb(os.path.join(img_dir, images[idx]['file_name']))
    return img, idx, skipped, rng
