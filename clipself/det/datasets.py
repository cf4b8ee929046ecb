"""COCO-format datasets for open-vocabulary detection (OV-COCO, OV-LVIS, Objects365, generated scenes).

Unlike mmdet's ``CocoDataset`` (80 fixed COCO names, labels in the json's category order whatever the order of
``classes``), the classes default to the annotation file's categories in id order, and label ``i`` is always
``classes[i]`` (matched by name).

Annotation checks (counts are logged once per file):
- an annotation whose ``category_id`` is not among the file's categories: ``ValueError`` (a broken file);
- an annotation of a category that is not one of ``classes``: skipped (e.g. the 15 non-OV classes of COCO);
- a box with zero area, width or height < 1 px, non-finite values, or no overlap with the image: skipped,
  as mmdet does; a box partly outside the image is kept (the transforms clip it);
- ``iscrowd`` annotations become ignored regions.
"""
import copy
import logging
import math
import os
import os.path as osp
import shutil
from collections import Counter
from typing import List, Optional

from mmengine.fileio import get_local_path
from mmengine.logging import print_log
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS


@DATASETS.register_module()
class OVCocoDataset(CocoDataset):
    """A COCO-format instances json with an open vocabulary.

    Args (besides mmdet's ``CocoDataset`` ones: ``data_root``, ``ann_file``, ``data_prefix``, ``pipeline``,
    ``filter_cfg``, ``test_mode`` ...):
        metainfo: ``dict(classes=(...))`` selects and orders classes by name; default: every category of the
            file, in id order.
    Images without ``file_name`` use their LVIS-style ``coco_url`` (``train2017/xxx.jpg``).
    """

    METAINFO = {'classes': (), 'palette': None}

    def load_data_list(self) -> List[dict]:
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local_path:
            self.coco = self.COCOAPI(local_path)
        cats = sorted(self.coco.dataset.get('categories', []), key=lambda c: c['id'])
        if not cats:
            raise ValueError(f'{self.ann_file}: no categories')
        by_name = {}
        for c in cats:
            if c['name'] in by_name:
                raise ValueError(f'{self.ann_file}: category name {c["name"]!r} used by ids {by_name[c["name"]]} '
                                 f'and {c["id"]}')
            by_name[c['name']] = c['id']
        if not self._metainfo.get('classes'):
            self._metainfo['classes'] = tuple(c['name'] for c in cats)
        classes = list(self._metainfo['classes'])
        missing = [n for n in classes if n not in by_name]
        if missing:
            raise ValueError(f'{self.ann_file}: classes {missing[:5]} are not categories of the file')
        self.cat_ids = [by_name[n] for n in classes]
        self.cat2label = {cid: i for i, cid in enumerate(self.cat_ids)}
        self.cat_img_map = copy.deepcopy(self.coco.cat_img_map)
        known = {c['id'] for c in cats}
        for ann in self.coco.dataset.get('annotations', []):
            if ann.get('category_id') not in known:
                raise ValueError(f'{self.ann_file}: annotation {ann.get("id")} (image {ann.get("image_id")}) refers '
                                 f'to category {ann.get("category_id")}, which is not among the file\'s '
                                 f'{len(known)} categories')
        self._skipped = Counter()
        data_list, ann_ids = [], []
        for img_id in self.coco.get_img_ids():
            raw_img_info = self.coco.load_imgs([img_id])[0]
            raw_img_info['img_id'] = img_id
            ids = self.coco.get_ann_ids(img_ids=[img_id])
            ann_ids.extend(ids)
            data_list.append(self.parse_data_info({'raw_ann_info': self.coco.load_anns(ids),
                                                   'raw_img_info': raw_img_info}))
        if len(set(ann_ids)) != len(ann_ids):
            raise ValueError(f'{self.ann_file}: annotation ids are not unique')
        if self._skipped:
            print_log(f'{self.ann_file}: skipped annotations: '
                      + ', '.join(f'{k}: {v}' for k, v in sorted(self._skipped.items())),
                      logger='current', level=logging.INFO)
        self.skipped_annotations = dict(self._skipped)
        del self.coco
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> dict:
        img_info, ann_info = raw_data_info['raw_img_info'], raw_data_info['raw_ann_info']
        file_name = img_info.get('file_name')
        if not file_name:
            url = img_info.get('coco_url')
            if not url:
                raise ValueError(f'{self.ann_file}: image {img_info["img_id"]} has neither file_name nor coco_url')
            file_name = '/'.join(url.split('/')[-2:])  # .../train2017/000000391895.jpg -> train2017/...
        data_info = dict(img_path=osp.join(self.data_prefix.get('img', ''), file_name), img_id=img_info['img_id'],
                         seg_map_path=None, height=img_info['height'], width=img_info['width'])
        instances = []
        for ann in ann_info:
            if ann.get('ignore', False):
                self._skipped['ignore flag'] += 1
                continue
            if ann['category_id'] not in self.cat2label:
                self._skipped['category not in classes'] += 1
                continue
            x1, y1, w, h = (float(v) for v in ann['bbox'])
            if not all(math.isfinite(v) for v in (x1, y1, w, h)):
                self._skipped['non-finite box'] += 1
                continue
            if ann.get('area', w * h) <= 0 or w < 1 or h < 1:
                self._skipped['zero-area or < 1 px box'] += 1
                continue
            inter_w = max(0.0, min(x1 + w, img_info['width']) - max(x1, 0.0))
            inter_h = max(0.0, min(y1 + h, img_info['height']) - max(y1, 0.0))
            if inter_w * inter_h == 0:
                self._skipped['box outside the image'] += 1
                continue
            inst = dict(bbox=[x1, y1, x1 + w, y1 + h], bbox_label=self.cat2label[ann['category_id']],
                        ignore_flag=1 if ann.get('iscrowd', False) else 0)
            if ann.get('segmentation'):
                inst['mask'] = ann['segmentation']
            instances.append(inst)
        data_info['instances'] = instances
        return data_info


@DATASETS.register_module()
class OVLVISDataset(OVCocoDataset):
    """LVIS v1 json read like COCO (images by ``coco_url`` under ``data_prefix.img``, e.g. ``data/coco/``).
    Classes default to the 1203 categories in id order."""


@DATASETS.register_module()
def SyntheticOVCocoDataset(*, data_root: str, split: str = 'train', generate: dict, **kwargs) -> OVCocoDataset:
    """Generated scenes (``clipself.data.synthetic_coco.write_synthetic_coco``) as an OV-COCO-style dataset.

    On first use writes ``data_root/{train,val}/`` (images + ``annotations/instances.json``) and the OV jsons
    ``annotations/ov_train.json`` (base-class boxes only, images without one dropped, as
    ``tools/prepare_ov_coco.py`` does for COCO) and ``annotations/ov_val.json`` (all classes); later runs reuse
    them. Generation happens in a temporary folder renamed into place (safe with concurrent runs).

    Args:
        split: ``'train'`` or ``'val'``.
        generate: ``dict(num_images=..., seed=..., size=(h, w), novel=(...), ...)`` for ``write_synthetic_coco``;
            ``val_images`` / ``val_seed`` set the held-out split (defaults: half as many, seed + 1000).
        kwargs: ``OVCocoDataset`` arguments (pipeline, filter_cfg, test_mode ...).
    """
    if split not in ('train', 'val'):
        raise ValueError(f'split must be train or val, got {split!r}')
    ensure_synthetic_ov_coco(data_root, **generate)
    sub = osp.join(data_root, split)
    kwargs.setdefault('data_prefix', dict(img='images/'))
    return OVCocoDataset(data_root=sub, ann_file=f'annotations/ov_{split}.json', **kwargs)


def ensure_synthetic_ov_coco(data_root: str, *, num_images: int, seed: int = 0, val_images: Optional[int] = None,
                             val_seed: Optional[int] = None, **generate) -> None:
    """Write the generated OV dataset into ``data_root`` unless it is there (see :func:`SyntheticOVCocoDataset`)."""
    from mmengine.dist import barrier, is_main_process
    marker = osp.join(data_root, 'val', 'annotations', 'ov_val.json')
    if is_main_process() and not osp.isfile(marker):
        from ..data.synthetic_coco import write_synthetic_coco
        from .prepare import load_json, ov_split, save_json
        tmp = data_root.rstrip('/') + f'.tmp-{os.getpid()}'
        shutil.rmtree(tmp, ignore_errors=True)
        novel = tuple(generate.get('novel', ()))
        splits = dict(train=(num_images, seed, 1), val=(val_images or max(1, num_images // 2),
                                                           seed + 1000 if val_seed is None else val_seed, 100000))
        for split, (n, s, first) in splits.items():
            paths = write_synthetic_coco(osp.join(tmp, split), num_images=n, seed=s, first_image_id=first, **generate)
            data = load_json(paths['instances'])
            names = [c['name'] for c in sorted(data['categories'], key=lambda c: c['id'])]
            out = ov_split(data, classes=names, novel=novel, train=split == 'train')
            save_json(out, osp.join(tmp, split, 'annotations', f'ov_{split}.json'))
        os.makedirs(osp.dirname(osp.abspath(data_root)) or '.', exist_ok=True)
        if osp.isfile(marker):  # someone else finished first
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            if osp.exists(data_root):
                shutil.rmtree(tmp, ignore_errors=True)
                raise FileExistsError(f'{data_root} exists but holds no generated dataset ({marker} is missing): '
                                      'remove it or choose another data_root')
            try:
                os.replace(tmp, data_root)
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
                if not osp.isfile(marker):
                    raise
    barrier()
