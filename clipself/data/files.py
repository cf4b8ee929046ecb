"""Image files of a path (the demos' inputs)."""
import os
from typing import List

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


def list_images(path: str) -> List[str]:
    """An image file, or the images of a folder (sorted)."""
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.lower().endswith(IMAGE_EXTS))
        if not files:
            raise FileNotFoundError(f'no images ({", ".join(IMAGE_EXTS)}) in {path}')
        return files
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} not found')
    return [path]
