"""Image lists of COCO-style jsons (COCO, COCO panoptic, LVIS v1) and the overlap between two of them.

LVIS v1 jsons give no ``file_name``: an image is named by its ``coco_url``
(``http://images.cocodataset.org/train2017/000000391895.jpg`` -> ``train2017/000000391895.jpg``, relative to the
LVIS image root, as the reference's distillation dataset reads it).

LVIS v1 val holds COCO train2017 images (besides val2017 ones): a CLIP distilled on COCO train2017 has seen
them. The overlap is found by image key: the COCO file name (``000000391895.jpg``: COCO names are unique across
train2017 and val2017, and LVIS keeps them), or, for images of other datasets, the resolved path of the file.
"""
import json
import os
import re
from typing import Dict, Iterable, List, Sequence

_COCO_NAME = re.compile(r'^\d{12}\.jpg$')


def image_file_name(image: Dict, source: str = 'the json') -> str:
    """The file name of one ``images[]`` entry: its ``file_name``, else ``{folder}/{name}`` from its ``coco_url``
    (LVIS v1). Raises ValueError naming ``source`` when it has neither."""
    name = image.get('file_name')
    if name:
        return str(name)
    url = image.get('coco_url')
    if url:
        parts = str(url).rstrip('/').split('/')
        return '/'.join(parts[-2:]) if len(parts) >= 2 else parts[-1]
    raise ValueError(f'{source}: image {image.get("id")} has neither "file_name" nor "coco_url" '
                     '(expected a COCO or LVIS json)')


def read_image_list(path: str) -> List[Dict]:
    """``[{id, file_name}]`` of a COCO / COCO panoptic / LVIS json, in json order (``file_name`` from
    :func:`image_file_name`). Raises FileNotFoundError / ValueError naming the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict) or 'images' not in data:
        raise ValueError(f'{path} has no "images" list (expected a COCO or LVIS json)')
    return [dict(id=im['id'], file_name=image_file_name(im, path)) for im in data['images']]


def image_keys(file_names: Iterable[str], image_root: str = '') -> List[str]:
    """One key per image: the COCO file name (``000000391895.jpg``) for COCO images, else the real path of
    ``image_root/file_name``."""
    keys = []
    for name in file_names:
        base = os.path.basename(name)
        keys.append(base if _COCO_NAME.match(base) else os.path.realpath(os.path.join(image_root, name)))
    return keys


def overlapping_images(a: Sequence[str], b: Sequence[str]) -> List[str]:
    """The keys (:func:`image_keys`) present in both lists, sorted."""
    return sorted(set(a) & set(b))
