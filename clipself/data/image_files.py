"""Which files are images: the one list of extensions, and listing the images of a folder."""
import os
from typing import List

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
