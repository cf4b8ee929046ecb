"""A hand-made COCO panoptic set whose every region is known: RGB-id PNGs, a json with isthing categories
(listed out of id order, ids not contiguous), and images whose red channel encodes the class of each pixel
(``R = 40 * (label + 1)``, label = index in sorted category ids) so a stub CLIP can read classes off pixels.

Image 1 (64 wide x 48 high): a cat (thing, 24x16), a dog (thing, 16x16), a tiny cat (thing, 9x8: smaller
than one 16-px patch), a 4x4 dog (filtered: area < 8^2), 'grass' stuff in two separate parts, 'sky' stuff
elsewhere, a segment of unknown category 99 (skipped), and a dog listed in the json but absent from the PNG.
Image 2 (48 x 32): no things, sky and grass only. Image 3 (32 x 32): one dog on sky.
"""
import json
import os

import numpy as np
from PIL import Image

from clipself.data.synthetic_coco import id2rgb

# listed out of id order on purpose; sorted ids 1, 3, 17, 40 -> labels 0..3
CATEGORIES = [dict(id=40, name='grass-merged', isthing=0), dict(id=3, name='dog', isthing=1),
              dict(id=17, name='sky-other-merged', isthing=0), dict(id=1, name='cat', isthing=1)]
LABEL = {1: 0, 3: 1, 17: 2, 40: 3}
NAMES = ['cat', 'dog', 'sky-other-merged', 'grass-merged']
ISTHING = [True, True, False, False]


def _xywh(x1, y1, x2, y2):
    return [x1, y1, x2 - x1, y2 - y1]


def _image(h, w, segments):
    """segments: list of (segment id, category id, [(y1, y2, x1, x2) rectangles]); later ones paint over."""
    ids = np.zeros((h, w), np.int64)
    for sid, _, rects in segments:
        for y1, y2, x1, x2 in rects:
            ids[y1:y2, x1:x2] = sid
    return ids


IMAGES = {
    1: dict(hw=(48, 64), segments=[
        (1001, 17, [(0, 48, 0, 64)]),                     # sky: everything not painted later
        (1002, 40, [(40, 48, 0, 20), (40, 48, 44, 64)]),  # grass in two parts -> one region, box (0,40,64,48)
        (7, 1, [(4, 20, 4, 28)]),                         # cat 24x16
        (8, 3, [(22, 38, 40, 56)]),                       # dog 16x16
        (9, 1, [(26, 34, 10, 19)]),                       # tiny cat 9x8 (< one 16-px patch)
        (10, 3, [(2, 6, 50, 54)]),                        # dog 4x4: filtered
        (11, 99, [(30, 34, 30, 34)]),                     # unknown category: skipped
    ], absent=[dict(id=12, category_id=3, bbox=[0, 0, 10, 10], area=100, iscrowd=0)]),
    2: dict(hw=(32, 48), segments=[(1001, 17, [(0, 32, 0, 48)]), (1002, 40, [(20, 32, 0, 48)])], absent=[]),
    3: dict(hw=(32, 32), segments=[(1001, 17, [(0, 32, 0, 32)]), (5, 3, [(8, 24, 8, 24)])], absent=[]),
}


def colour_image(ids: np.ndarray, segments) -> np.ndarray:
    """RGB image: red = 40 * (label + 1) of the segment's class (0 for unknown classes), some texture in G/B."""
    h, w = ids.shape
    rng = np.random.default_rng(0)
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 1] = rng.integers(0, 255, (h, w))
    img[..., 2] = rng.integers(0, 255, (h, w))
    for sid, cat, _ in segments:
        img[ids == sid, 0] = 40 * (LABEL[cat] + 1) if cat in LABEL else 0
    return img


def write_fixture(root: str, *, drop_png_of=None, extra_categories=()) -> dict:
    """Write images/, annotations/panoptic/*.png and annotations/panoptic.json under ``root``; returns
    ``{image_id: {'ids': [H, W] segment ids, 'image': [H, W, 3]}}``."""
    os.makedirs(os.path.join(root, 'images'), exist_ok=True)
    os.makedirs(os.path.join(root, 'annotations', 'panoptic'), exist_ok=True)
    images, anns, out = [], [], {}
    for image_id, spec in IMAGES.items():
        h, w = spec['hw']
        ids = _image(h, w, spec['segments'])
        img = colour_image(ids, spec['segments'])
        name = f'{image_id:06d}'
        Image.fromarray(img).save(os.path.join(root, 'images', name + '.png'))
        if image_id != drop_png_of:
            Image.fromarray(id2rgb(ids)).save(os.path.join(root, 'annotations', 'panoptic', name + '.png'))
        infos = []
        for sid, cat, _ in spec['segments']:
            ys, xs = np.nonzero(ids == sid)
            infos.append(dict(id=sid, category_id=cat, iscrowd=0, area=int(len(ys)),
                              bbox=_xywh(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)))
        infos += spec['absent']
        images.append(dict(id=image_id, file_name=name + '.png', height=h, width=w))
        anns.append(dict(image_id=image_id, file_name=name + '.png', segments_info=infos))
        out[image_id] = dict(ids=ids, image=img)
    with open(os.path.join(root, 'annotations', 'panoptic.json'), 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=CATEGORIES + list(extra_categories)), f)
    return out


def dataset_kwargs(root: str, **kw) -> dict:
    return dict(data_root=root, ann_file='annotations/panoptic.json', img_dir='images', seg_dir='annotations/panoptic',
                **kw)
