"""Segmentation datasets of the open-vocabulary benchmarks that mmseg 1.2 lacks.

mmseg has PASCAL VOC 2012 with background (``PascalVOCDataset``, VOC21), PASCAL Context 60 / 59
(``PascalContextDataset`` / ``PascalContextDataset59``), COCO-Stuff 164k (``COCOStuffDataset``), Cityscapes and
ADE20K-150. Added here, in their usual file layouts (see ``docs/segmentation.md``):

- :class:`PascalVOC20Dataset`: VOC 2012 val without the background class (label 0 ignored: ``reduce_zero_label``);
- :class:`COCOObjectDataset`: COCO val2017, the 80 thing classes plus background (all stuff);
  :func:`coco_object_labels` makes its label maps from COCO-Stuff's ``stuffthingmaps``;
- :class:`ADE847Dataset` (ADE20K-full, 847 classes) and :class:`PascalContext459Dataset` (459 classes): 16-bit
  ``.tif`` label maps (65535 = unlabelled), class names from a text file; read with ``LoadCheckedAnnotations``
  (``wide_labels=True``).
"""
import os
import os.path as osp
from typing import List, Optional

import numpy as np
from mmengine import fileio
from mmseg.datasets import BaseSegDataset, COCOStuffDataset, PascalVOCDataset
from mmseg.registry import DATASETS

from ..evaluation.segmentation import load_class_queries
from ..models.vocabulary import load_vocabulary


@DATASETS.register_module()
class PascalVOC20Dataset(BaseSegDataset):
    """PASCAL VOC 2012 with the 20 object classes only: background (label 0) is ignored, 1..20 -> 0..19.

    Layout: ``VOCdevkit/VOC2012/{JPEGImages/*.jpg, SegmentationClass/*.png, ImageSets/Segmentation/val.txt}``.
    """
    METAINFO = dict(classes=tuple(PascalVOCDataset.METAINFO['classes'][1:]),
                    palette=list(PascalVOCDataset.METAINFO['palette'][1:]))

    def __init__(self, *, ann_file: str, img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = True, **kwargs):
        super().__init__(ann_file=ann_file, img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=reduce_zero_label, **kwargs)


@DATASETS.register_module()
class COCOObjectDataset(BaseSegDataset):
    """COCO-Object: COCO 2017 with the 80 thing classes and one background class (every stuff pixel); 255 is
    unlabelled. Label maps ``*_instanceTrainIds.png`` (0 background, 1..80 the things in COCO id order), made by
    ``tools/prepare_coco_object.py`` from COCO-Stuff's ``stuffthingmaps_trainval2017``.

    Layout: ``coco_stuff164k/images/val2017/*.jpg``, ``coco_stuff164k/annotations/val2017/*_instanceTrainIds.png``.
    """
    METAINFO = dict(classes=('background',) + tuple(COCOStuffDataset.METAINFO['classes'][:80]),
                    palette=[[0, 0, 0]] + list(COCOStuffDataset.METAINFO['palette'][:80]))

    def __init__(self, *, img_suffix: str = '.jpg', seg_map_suffix: str = '_instanceTrainIds.png', **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)


def coco_object_labels(stuffthing: np.ndarray) -> np.ndarray:
    """COCO-Stuff ``stuffthingmaps`` (value = COCO category id - 1; things 0..89, stuff 91..181; 255 unlabelled)
    -> COCO-Object labels (0 background = any stuff, 1..80 the thing classes in id order, 255 unlabelled), uint8."""
    lut = np.zeros(256, np.uint8)
    for k, cid in enumerate(load_vocabulary('coco').ids):
        lut[cid - 1] = k + 1
    lut[255] = 255
    if stuffthing.dtype != np.uint8:
        raise ValueError(f'stuffthingmaps are 8-bit, got {stuffthing.dtype}')
    return lut[stuffthing]


class _ClassesFromFile(BaseSegDataset):
    """A dataset whose class names come from a text file (one per line; a line's first comma-separated name is
    the class's name) and whose samples are listed from the label folder (its image folder holds more images)."""
    METAINFO: dict = dict()
    NUM_CLASSES: int

    def __init__(self, *, classes_file: str, img_suffix: str = '.jpg', seg_map_suffix: str = '.tif',
                 ignore_index: int = 65535, metainfo: Optional[dict] = None, **kwargs):
        queries = load_class_queries(classes_file, unique=False)  # ADE-847 classes share synonyms
        if len(queries) != self.NUM_CLASSES:
            raise ValueError(f'{classes_file}: {len(queries)} classes, {type(self).__name__} has {self.NUM_CLASSES}')
        meta = dict(metainfo or {}, classes=tuple(queries.names))
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, ignore_index=ignore_index,
                         metainfo=meta, **kwargs)

    def load_data_list(self) -> List[dict]:
        img_dir, ann_dir = self.data_prefix.get('img_path'), self.data_prefix.get('seg_map_path')
        if not fileio.exists(ann_dir, self.backend_args):
            raise FileNotFoundError(f'{type(self).__name__}: label folder {ann_dir} not found')
        data_list = []
        for name in sorted(fileio.list_dir_or_file(ann_dir, list_dir=False, suffix=self.seg_map_suffix,
                                                   recursive=True, backend_args=self.backend_args)):
            stem = name[:-len(self.seg_map_suffix)]
            img = osp.join(img_dir, stem + self.img_suffix)
            if not fileio.exists(img, self.backend_args):
                raise FileNotFoundError(f'{type(self).__name__}: no image {img} for the label map {name}')
            data_list.append(dict(img_path=img, seg_map_path=osp.join(ann_dir, name), label_map=self.label_map,
                                  reduce_zero_label=self.reduce_zero_label, seg_fields=[]))
        return data_list


@DATASETS.register_module()
class ADE847Dataset(_ClassesFromFile):
    """ADE20K-full validation, 847 classes (the open-vocabulary benchmark "A-847").

    Layout (detectron2 preparation of ADE20K_2021_17_01): ``images_detectron2/validation/*.jpg``,
    ``annotations_detectron2/validation/*.tif`` (uint16, 0..846, 65535 unlabelled).
    """
    NUM_CLASSES = 847


@DATASETS.register_module()
class PascalContext459Dataset(_ClassesFromFile):
    """PASCAL Context validation with the full 459 classes ("PC-459").

    Layout: ``VOCdevkit/VOC2010/JPEGImages/*.jpg``, ``VOCdevkit/VOC2010/annotations_detectron2/pc459_val/*.tif``
    (uint16, 0..458, 65535 unlabelled).
    """
    NUM_CLASSES = 459


def write_label_png(path: str, labels: np.ndarray) -> None:
    """Write an 8-bit label map as a single-channel PNG (the format mmseg's loaders read)."""
    from PIL import Image
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    Image.fromarray(np.ascontiguousarray(labels, dtype=np.uint8)).save(path)  # 2-D uint8 -> mode 'L'
