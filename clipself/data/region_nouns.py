"""The training set of the RegionCLIP-style baseline: images with pseudo-labelled boxes, each box naming a noun;
and the noun-embedding files its loss scores the boxes against.

Box file (the reference's ``coco_pseudo_4764.json``): a COCO instances json whose ``categories`` are the nouns
(``{id, name}``; the label of a noun is the position of its id among the sorted ids) and whose ``annotations``
are the boxes (``{image_id, bbox: [x, y, w, h] in original pixels, category_id}``); ``images`` as in COCO
(``file_name``, or LVIS's ``coco_url``). Only images with at least one box are used (as the reference does).

Noun-embedding file, one row per noun in label order:

- ``.pt``: :func:`clipself.models.text.save_text_embeddings`'s format (``tools/gen_text_embeddings.py --classes
  BOXES.json`` writes it from the box file's nouns); its ``class_names`` must equal the nouns of the box file.
- ``.npy``: a float ``[C, D]`` array (the reference's format), no names: only the count is checked.

Both are read safely (``torch.load(weights_only=True)``; ``np.load(allow_pickle=False)``).
"""
import json
import os
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch.utils.data import Dataset

from ..models.text import load_text_embeddings
from ..models.vocabulary import check_same_names, vocabulary_from_categories
from .image_files import read_item
from .image_lists import image_file_name
from .transforms import resize_pad


def load_noun_embeddings(path: Union[str, os.PathLike]) -> Tuple[Optional[List[str]], torch.Tensor]:
    """``(noun names or None for a .npy file, [C, D] float32 embeddings as stored)`` of a noun-embedding file.

    Raises:
        FileNotFoundError naming the file and how to make one; ValueError when it is not a 2-D float array / a
        text-embeddings file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'noun-embedding file {path} not found (make one from the box file with '
                                'tools/gen_text_embeddings.py --classes BOXES.json; see docs/regionclip.md)')
    if path.lower().endswith('.npy'):
        try:
            arr = np.load(path, allow_pickle=False)
        except Exception as e:
            raise ValueError(f'{path}: not a readable .npy array ({type(e).__name__}: {e})') from e
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.floating) or not arr.shape[0]:
            raise ValueError(f'{path}: noun embeddings must be a float [C, D] array, got {arr.dtype} {arr.shape}')
        return None, torch.from_numpy(arr.astype(np.float32))
    data = load_text_embeddings(path)
    return data['class_names'], data['embeddings'].float()


def check_nouns(names: Sequence[str], nouns: Union[str, os.PathLike, Sequence[str]], source: str) -> None:
    """Raise ValueError unless the nouns of ``source`` (``names``, in label order) are those of ``nouns``: a
    noun-embedding file (a ``.npy`` one is checked for its row count only) or a list of names."""
    if isinstance(nouns, (str, os.PathLike)):
        expected, emb = load_noun_embeddings(nouns)
        where = os.fspath(nouns)
        if expected is None:
            if len(emb) != len(names):
                raise ValueError(f'{source} has {len(names)} nouns but {where} has {len(emb)} rows')
            return
    else:
        expected, where = list(nouns), 'the given nouns'
    check_same_names(names, expected, source=source, where=where, what=('noun', 'nouns'),
                     rule='rows must follow the sorted category ids of the box file')


def read_region_nouns(path: str) -> Tuple[List[dict], Dict[int, np.ndarray], Dict[int, np.ndarray], List[str]]:
    """Parse a box file: ``(images [{id, file_name}] with at least one box in json order, image id -> [K, 4]
    xyxy boxes (float32, original pixels, annotation order), image id -> [K] int64 labels, noun names in label
    order)``. Raises FileNotFoundError / ValueError naming the file and the entry."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'box file not found: {path}')
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list)
                                             for k in ('images', 'annotations', 'categories')):
        raise ValueError(f'{path}: expected a COCO instances json with "images", "annotations" and "categories" '
                         'lists (the categories are the nouns)')
    if not data['categories']:
        raise ValueError(f'{path}: no categories (nouns)')
    vocab = vocabulary_from_categories(data['categories'], path, sort_by_id=True)
    label_of = vocab.id_to_index
    boxes, labels = defaultdict(list), defaultdict(list)
    for i, a in enumerate(data['annotations']):
        try:
            x, y, w, h = (float(v) for v in a['bbox'])
            cat, image_id = a['category_id'], a['image_id']
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f'{path}: annotation {i} needs "image_id", "category_id" and "bbox": [x, y, w, h] '
                             f'({type(e).__name__}: {e})') from e
        if cat not in label_of:
            raise ValueError(f'{path}: annotation {i} has category_id {cat}, not among its categories')
        boxes[image_id].append([x, y, x + w, y + h])
        labels[image_id].append(label_of[cat])
    images = [dict(id=im['id'], file_name=image_file_name(im, path)) for im in data['images'] if im['id'] in boxes]
    return (images, {k: np.asarray(v, np.float32) for k, v in boxes.items()},
            {k: np.asarray(v, np.int64) for k, v in labels.items()}, vocab.names)


class RegionNounDataset(Dataset):
    """One item per image that has boxes: the student input, its boxes and their noun labels.

    Args:
        data_root: prefix for the relative paths below.
        ann_file: the box file (format in the module docstring).
        img_dir: image folder (``file_name`` is relative to it).
        student_size: the student's input size (longest side, padded to a square): 1024 (B/16), 896 (L/14-336).
        max_boxes: the first ``max_boxes`` boxes of an image, in file order (the reference: 20).
        nouns: optional check that the box file's nouns are those of a noun-embedding file (its path, as the
            model is given it: not under ``data_root``) or a list of names, in label order (ValueError
            otherwise): pass the model's ``noun_embeddings``.
        seed: seeds the replacement of unreadable images (as :class:`~clipself.data.distill_dataset.CLIPSelfDataset`).
    Item:
        ``image [3, S, S]`` uint8, ``boxes [K, 4]`` float32 xyxy in student pixels, ``labels [K]`` int64 noun
        labels, ``image_id``, ``skipped`` (how many unreadable images were replaced to produce this item).
    """

    def __init__(self, *, data_root: str = '', ann_file: str, img_dir: str = '', student_size: int = 1024,
                 max_boxes: int = 20, nouns: Union[None, str, Sequence[str]] = None, seed: int = 0):
        if max_boxes < 1:
            raise ValueError(f'max_boxes must be >= 1, got {max_boxes}')
        self.img_dir = os.path.join(data_root, img_dir)
        self.student_size, self.max_boxes, self.seed = student_size, max_boxes, seed
        path = os.path.join(data_root, ann_file)
        self.images, self.boxes, self.labels, self.nouns = read_region_nouns(path)
        if not self.images:
            raise ValueError(f'{path}: no image has a box')
        if nouns is not None:
            check_nouns(self.nouns, nouns, path)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, idx: int) -> dict:
        img, idx, skipped, _ = read_item(self.img_dir, self.images, idx, self.seed)
        image_id = self.images[idx]['id']
        student, scale = resize_pad(img, self.student_size)
        boxes = self.boxes[image_id][:self.max_boxes] * scale  # shape: [K, 4], student pixels
        labels = self.labels[image_id][:self.max_boxes]
        return dict(image=student, boxes=torch.from_numpy(boxes), labels=torch.from_numpy(labels),
                    image_id=image_id, skipped=skipped)
