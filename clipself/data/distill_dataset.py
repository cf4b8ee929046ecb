"""The CLIPSelf training set: images, the regions to distil, and the teacher's crops.

Images come from a COCO or LVIS json (``ann_file``: the ``images`` list; LVIS images are named by their
``coco_url``, e.g. ``train2017/000000391895.jpg`` under ``img_dir``) or an image folder (``img_dir`` alone);
regions are grid cells (``sampler='grid'``) or proposals from a json (``sampler='proposals'``: a list of
``{image_id, bbox: [x, y, w, h], score}`` as COCO detection results, or a COCO instances json, whose
``annotations`` boxes are then the proposals). Unreadable images are skipped (warning, counted) and
replaced by another image, so a run never stops on one bad file.
"""
import json
import os
from collections import defaultdict
from typing import Dict, List, Optional

import numpy as np
import torch
from torch.utils.data import Dataset

from .image_files import image_names, read_item
from .image_lists import read_image_list
from .sampling import sample_grid, sample_proposals
from .transforms import crop_resize_pad, resize_pad


def _load_proposals(path: str, image_ids) -> Dict[int, np.ndarray]:
    """``image_id -> [P, 4]`` xyxy from a detection-results list or a COCO instances json."""
    with open(path) as f:
        data = json.load(f)
    entries = data['annotations'] if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ValueError(f'{path}: expected a list of detections or a COCO json with "annotations"')
    out = defaultdict(list)
    for i, e in enumerate(entries):
        try:
            x, y, w, h = (float(v) for v in e['bbox'])
            out[e['image_id']].append([x, y, x + w, y + h])
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f'{path}: entry {i} needs "image_id" and "bbox": [x, y, w, h] ({err})') from err
    known = set(image_ids)
    if out and not (set(out) & known):
        raise ValueError(f'{path}: none of its image ids match the images of the dataset')
    return {k: np.asarray(v, np.float32) for k, v in out.items()}


class CLIPSelfDataset(Dataset):
    """One item per image: the student input, its boxes, and one teacher crop per box.

    Args:
        data_root: prefix for the relative paths below.
        ann_file: COCO json listing the images (``images[].file_name``), or an LVIS json (no ``file_name``:
            ``{folder}/{name}`` of ``coco_url``); or None with ``img_dir`` only.
        img_dir: image folder (``file_name`` is relative to it; for LVIS the folder holding ``train2017/``).
        sampler: ``'grid'`` (image patches) or ``'proposals'``.
        proposal_file: json of proposals (``sampler='proposals'``).
        student_size: the student's input size (longest side, padded to a square).
        crop_size: the teacher's input size (its pre-training size).
        max_boxes / max_split / min_size / max_size / crop_scale: as in the CLIPSelf recipe.
        seed: base seed of the box sampling; each draw also takes a salt from torch's RNG, which the
            DataLoader seeds per epoch and worker, so boxes change every epoch yet a seeded run repeats.
    Item:
        ``image [3, S, S]`` uint8, ``boxes [K, 4]`` float32 xyxy in student pixels, ``crops [K, 3, T, T]`` uint8,
        ``whole [3, T, T]`` uint8 (the whole image as a teacher-size crop), ``image_id``, ``skipped`` (how many
        unreadable images were replaced to produce this item), ``box_keys`` (``boxes`` as a numpy array: stays on
        the host, the teacher cache's keys).
    """

    def __init__(self, *, data_root: str = '', ann_file: Optional[str] = None, img_dir: str = '',
                 sampler: str = 'grid', proposal_file: Optional[str] = None, student_size: int = 1024,
                 crop_size: int = 224, max_boxes: int = 20, max_split: int = 6, min_size: float = 8,
                 max_size: float = 1024, crop_scale: float = 1.5, seed: int = 0):
        if sampler not in ('grid', 'proposals'):
            raise ValueError(f"sampler must be 'grid' or 'proposals', got {sampler!r}")
        self.img_dir = os.path.join(data_root, img_dir)
        self.sampler, self.student_size, self.crop_size = sampler, student_size, crop_size
        self.max_boxes, self.max_split, self.min_size, self.max_size = max_boxes, max_split, min_size, max_size
        self.crop_scale, self.seed = crop_scale, seed
        self.images = self._list_images(os.path.join(data_root, ann_file) if ann_file else None)
        if not self.images:
            raise ValueError(f'no images found ({ann_file or self.img_dir})')
        self.proposals: Dict[int, np.ndarray] = {}
        if sampler == 'proposals':
            if not proposal_file:
                raise ValueError("sampler='proposals' needs proposal_file")
            path = os.path.join(data_root, proposal_file)
            if not os.path.isfile(path):
                raise FileNotFoundError(f'proposal file not found: {path}')
            self.proposals = _load_proposals(path, [i['id'] for i in self.images])

    def _list_images(self, ann_path: Optional[str]) -> List[dict]:
        if ann_path:
            return read_image_list(ann_path)
        if not os.path.isdir(self.img_dir):
            raise FileNotFoundError(f'image folder not found: {self.img_dir}')
        return [dict(id=i, file_name=n) for i, n in enumerate(image_names(self.img_dir))]

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, idx: int) -> dict:
        img, idx, skipped, rng = read_item(self.img_dir, self.images, idx, self.seed)
        info = self.images[idx]
        hw = (img.height, img.width)
        if self.sampler == 'grid':
            boxes = sample_grid(rng, hw, max_split=self.max_split, max_boxes=self.max_boxes)
            crop_boxes = boxes
        else:
            boxes, crop_boxes = sample_proposals(
                rng, self.proposals.get(info['id'], np.zeros((0, 4), np.float32)), hw, max_boxes=self.max_boxes,
                min_size=self.min_size, max_size=self.max_size, crop_scale=self.crop_scale)
        student, scale = resize_pad(img, self.student_size)
        crops = torch.stack([crop_resize_pad(img, b, self.crop_size) for b in crop_boxes])
        whole = crop_resize_pad(img, (0, 0, img.width, img.height), self.crop_size)
        boxes = (boxes * scale).astype(np.float32)
        # box_keys: the same boxes as a host array, which a data preprocessor leaves on the host (teacher-cache keys
        # without a device-to-host sync in the training step)
        return dict(image=student, boxes=torch.from_numpy(boxes), crops=crops, whole=whole,
                    image_id=info['id'], skipped=skipped, box_keys=boxes.copy())
