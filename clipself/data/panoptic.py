"""COCO panoptic regions for zero-shot region classification (``docs/region_classification.md``).

Reads a COCO panoptic json (``categories`` with ``isthing``; ``annotations[].segments_info``) and its PNGs
(RGB-encoded segment ids, ``id = R + 256 G + 256^2 B``). One item per image; the first ``max_segments``
segments of ``segments_info`` (default 100, as the reference) are candidates, each becomes a region:

- box: things use the json ``bbox`` (xywh -> xyxy); stuff uses the bounding box of its mask in the PNG
  (all parts of a split segment together; ``stuff_box_end='last_pixel'``: ``x2 = max x`` as the reference's
  ``mask2box``, ``'edge'``: ``x2 = max x + 1``);
- kept when the box area ``w * h`` (original pixels) lies in ``[min_size^2, max_size^2]``;
- label: the index of the category id in the SORTED list of the json's category ids (COCO panoptic: 133);
- crop: the box enlarged about its centre (``crop_scale`` for things, ``stuff_crop_scale`` for stuff: 1.5 and
  1.0 in the reference), clipped to the image, cut from the ORIGINAL image, longest side resized to
  ``crop_size``, centre-padded (``crop_resize_pad``);
- mask: carried as a region index map at the original resolution (``region_map``), which the evaluation
  brings onto the token grid (``clipself.evaluation.grid_masks``).

Segments whose category id is not among the json categories are skipped and counted (one warning when the
json is read); segments listed in the json but absent from the PNG are skipped and counted too. A missing or
mis-sized PNG is an error naming the file.
"""
import json
import logging
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .transforms import crop_resize_pad, enlarge_box, resize_pad

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegionClasses:
    """The class list of a region dataset, carried by every item so the model can embed the names.

    Not a sequence on purpose: ``pseudo_collate`` keeps it whole (one reference per item).

    Attributes:
        names: class names in label order (sorted category ids).
        ids: the dataset category ids, ascending.
        isthing: True for thing classes, False for stuff.
    """
    names: Tuple[str, ...]
    ids: Tuple[int, ...]
    isthing: Tuple[bool, ...]

    def __len__(self) -> int:
        return len(self.names)


def rgb2id(rgb: np.ndarray) -> np.ndarray:
    """COCO panoptic PNG ``[H, W, 3]`` uint8 -> ``[H, W]`` int64 segment ids (``R + 256 G + 256^2 B``)."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f'expected an [H, W, 3] RGB array, got {rgb.shape}')
    rgb = rgb.astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def load_panoptic_json(path: str) -> Tuple[RegionClasses, List[dict], int]:
    """Read a COCO panoptic json.

    Returns:
        ``(classes, images, num_unknown)``: ``images`` in json order, each
        ``{id, file_name, height, width, seg_file, segments, num_unknown}`` (``segments`` from
        ``segments_info``, those of unknown categories removed and counted in ``num_unknown``);
        ``num_unknown`` (the third value) is the total over the json.
    Raises:
        FileNotFoundError; ValueError naming the file when a key is missing or a category lacks ``isthing``.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'panoptic annotation file not found: {path}')
    with open(path) as f:
        data = json.load(f)
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise ValueError(f'{path} has no "{key}" list (expected a COCO panoptic json)')
    cats = sorted(data['categories'], key=lambda c: int(c['id']))
    missing = [c.get('name', c['id']) for c in cats if 'isthing' not in c]
    if missing:
        raise ValueError(f'{path}: categories {missing[:5]} have no "isthing" (expected a COCO panoptic json)')
    if not cats:
        raise ValueError(f'{path}: no categories')
    classes = RegionClasses(names=tuple(str(c['name']) for c in cats), ids=tuple(int(c['id']) for c in cats),
                            isthing=tuple(bool(c['isthing']) for c in cats))
    known = set(classes.ids)
    anns = {a['image_id']: a for a in data['annotations']}
    images, unknown, unknown_ids = [], 0, set()
    for im in data['images']:
        ann = anns.get(im['id'])
        segments, skipped = [], 0
        if ann is not None:
            for s in ann['segments_info']:
                if int(s['category_id']) in known:
                    segments.append(s)
                else:
                    skipped += 1
                    unknown_ids.add(int(s['category_id']))
        unknown += skipped
        seg_file = ann['file_name'] if ann is not None else os.path.splitext(im['file_name'])[0] + '.png'
        images.append(dict(id=im['id'], file_name=im['file_name'], height=im.get('height'), width=im.get('width'),
                           seg_file=seg_file, segments=segments, num_unknown=skipped))
    if unknown:
        logger.warning('%s: %d segments have category ids not among its categories (%s): skipped and counted',
                       path, unknown, sorted(unknown_ids)[:10])
    return classes, images, unknown


STUFF_BOX_ENDS = ('last_pixel', 'edge')


def mask_box(mask: np.ndarray, end: str = 'edge') -> Optional[Tuple[float, float, float, float]]:
    """Bounding box of a ``[H, W]`` bool mask, xyxy; None if empty.

    ``end='edge'``: pixel edges (``x2 = max x + 1``); ``end='last_pixel'``: ``x2 = max x`` (the reference's
    ``mask2box``, one pixel narrower and shorter)."""
    if end not in STUFF_BOX_ENDS:
        raise ValueError(f'end must be one of {STUFF_BOX_ENDS}, got {end!r}')
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if len(rows) == 0:
        return None
    inc = 1 if end == 'edge' else 0
    return float(cols[0]), float(rows[0]), float(cols[-1] + inc), float(rows[-1] + inc)


class COCOPanopticRegionDataset(Dataset):
    """Regions of COCO panoptic images for zero-shot region classification.

    Args:
        data_root: prefix of the paths below.
        ann_file: the panoptic json (``annotations/panoptic_val2017.json``).
        img_dir: the images (``val2017/``).
        seg_dir: the panoptic PNGs (``annotations/panoptic_val2017/``).
        dense_size: the dense input size: longest side resized to it, padded right/bottom
            (1024 for B/16, 896 for L/14-336).
        crop_size: the crop (``encode_image``) input size, the model's pre-training size (224 / 336).
        min_size / max_size: keep regions whose box area ``w * h`` lies in ``[min_size^2, max_size^2]``.
        crop_scale: thing crops are the box enlarged this much about its centre (clipped to the image).
        stuff_crop_scale: the same for stuff regions; None = ``crop_scale``. Default 1.0: the reference
            evaluation crops stuff boxes without enlarging them (1.5 in earlier clipself versions).
        max_segments: only the first N segments of an image's ``segments_info`` (of known categories) are
            candidates, counted before the size filter as the reference's 100; None = all (earlier clipself
            versions).
        stuff_box_end: ``'last_pixel'`` (the reference) or ``'edge'`` (earlier clipself versions), see
            :func:`mask_box`.
        max_images: evaluate only the first N images (quick checks); None = all.
    Item (a dict):
        ``image [3, S, S]`` uint8 dense input; ``boxes [K, 4]`` float32 xyxy in dense-input pixels;
        ``crops [K, 3, T, T]`` uint8; ``region_map [H, W]`` int32 at the ORIGINAL resolution, ``k`` where
        region k lies, -1 elsewhere; ``scale`` (original -> dense input); ``labels [K]`` int64;
        ``isthing [K]`` bool; ``image_id``; ``classes`` (:class:`RegionClasses`); ``num_unknown`` /
        ``num_filtered`` / ``num_not_in_png`` / ``num_beyond_max``: segments skipped for an unknown category, for
        their size, for an empty mask, and beyond ``max_segments``.
    """

    def __init__(self, *, data_root: str = '', ann_file: str, img_dir: str, seg_dir: str, dense_size: int = 1024,
                 crop_size: int = 224, min_size: float = 8, max_size: float = 1024, crop_scale: float = 1.5,
                 stuff_crop_scale: Optional[float] = 1.0, max_segments: Optional[int] = 100,
                 stuff_box_end: str = 'last_pixel', max_images: Optional[int] = None):
        self.ann_path = os.path.join(data_root, ann_file)
        self.img_dir = os.path.join(data_root, img_dir)
        self.seg_dir = os.path.join(data_root, seg_dir)
        if dense_size < 1 or crop_size < 1:
            raise ValueError(f'dense_size and crop_size must be positive, got {dense_size}, {crop_size}')
        if not 0 <= min_size <= max_size:
            raise ValueError(f'need 0 <= min_size <= max_size, got {min_size}, {max_size}')
        self.dense_size, self.crop_size = int(dense_size), int(crop_size)
        self.min_area, self.max_area = float(min_size) ** 2, float(max_size) ** 2
        self.crop_scale = float(crop_scale)
        self.stuff_crop_scale = self.crop_scale if stuff_crop_scale is None else float(stuff_crop_scale)
        if max_segments is not None and int(max_segments) < 1:
            raise ValueError(f'max_segments must be positive or None, got {max_segments}')
        if stuff_box_end not in STUFF_BOX_ENDS:
            raise ValueError(f'stuff_box_end must be one of {STUFF_BOX_ENDS}, got {stuff_box_end!r}')
        self.max_segments = None if max_segments is None else int(max_segments)
        self.stuff_box_end = stuff_box_end
        self.classes, self.images, self.num_unknown_total = load_panoptic_json(self.ann_path)
        if max_images is not None:
            self.images = self.images[:int(max_images)]
        self._label = {cid: i for i, cid in enumerate(self.classes.ids)}
        self._warned_not_in_png = False

    @property
    def metainfo(self) -> Dict:
        """``classes`` (names in label order), ``isthing``, ``category_ids`` (what mmengine hands to metrics)."""
        return dict(classes=self.classes.names, isthing=self.classes.isthing, category_ids=self.classes.ids)

    def __len__(self) -> int:
        return len(self.images)

    def _read_segments(self, info: dict, hw: Tuple[int, int]) -> np.ndarray:
        path = os.path.join(self.seg_dir, info['seg_file'])
        if not os.path.isfile(path):
            raise FileNotFoundError(f'panoptic PNG not found: {path} (image {info["id"]}, {info["file_name"]}, '
                                    f'listed in {self.ann_path})')
        with Image.open(path) as im:
            ids = rgb2id(np.asarray(im.convert('RGB')))
        if ids.shape != hw:
            raise ValueError(f'panoptic PNG {path} is {ids.shape[1]}x{ids.shape[0]} but its image '
                             f'{info["file_name"]} is {hw[1]}x{hw[0]}')
        return ids

    def __getitem__(self, idx: int) -> dict:
        info = self.images[idx]
        path = os.path.join(self.img_dir, info['file_name'])
        if not os.path.isfile(path):
            raise FileNotFoundError(f'image not found: {path} (image {info["id"]}, listed in {self.ann_path})')
        with Image.open(path) as im:
            img = im.convert('RGB')
        h, w = img.height, img.width
        ids = self._read_segments(info, (h, w))
        region_map = np.full((h, w), -1, np.int32)
        boxes, labels, isthing, crop_boxes = [], [], [], []
        filtered = not_in_png = 0
        segments = info['segments'][:self.max_segments]  # counted before the size filter, as the reference
        beyond = len(info['segments']) - len(segments)
        for seg in segments:
            mask = ids == int(seg['id'])
            mbox = mask_box(mask, self.stuff_box_end)
            if mbox is None:
                not_in_png += 1
                continue
            label = self._label[int(seg['category_id'])]
            thing = self.classes.isthing[label]
            if thing:
                x, y, bw, bh = (float(v) for v in seg['bbox'])
                box = (x, y, x + bw, y + bh)
            else:
                box = mbox
            area = (box[2] - box[0]) * (box[3] - box[1])
            if not self.min_area <= area <= self.max_area or box[2] <= box[0] or box[3] <= box[1]:
                filtered += 1
                continue
            region_map[mask] = len(boxes)
            boxes.append(box)
            labels.append(label)
            isthing.append(thing)
            crop_boxes.append(enlarge_box(box, self.crop_scale if thing else self.stuff_crop_scale, (h, w)))
        if not_in_png and not self._warned_not_in_png:
            self._warned_not_in_png = True
            logger.warning('%s: %d segment(s) listed in %s are absent from the PNG: skipped and counted '
                           '(further cases are only counted)', info['seg_file'], not_in_png, self.ann_path)
        image, scale = resize_pad(img, self.dense_size)
        t = self.crop_size
        crops = (torch.stack([crop_resize_pad(img, b, t) for b in crop_boxes]) if crop_boxes
                 else torch.zeros(0, 3, t, t, dtype=torch.uint8))
        return dict(
            image=image,
            boxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4) * scale,  # shape: [K, 4] dense px
            crops=crops,
            region_map=torch.from_numpy(region_map),
            scale=float(scale),
            labels=torch.tensor(labels, dtype=torch.int64),
            isthing=torch.tensor(isthing, dtype=torch.bool),
            image_id=info['id'],
            classes=self.classes,
            num_unknown=info['num_unknown'],
            num_filtered=filtered,
            num_not_in_png=not_in_png,
            num_beyond_max=beyond,
        )
