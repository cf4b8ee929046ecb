"""OV-COCO box AP50 for novel, base and all classes (pycocotools, the standard protocol)."""
import copy
import logging
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import print_log
from mmdet.registry import METRICS

from ..vocab import NovelSpec, novel_names
from .common import check_image_ids, collect, label_to_category, quiet, to_json_results, write_outputs


def ap50_per_class(coco_eval, cat_ids: Sequence[int]) -> np.ndarray:
    """AP at IoU 0.5 (all areas, 100 detections) of each of ``cat_ids`` from an accumulated ``COCOeval``; ``nan``
    for categories without ground truth. (``COCOeval.evaluate`` sorts ``params.catIds``: the precision array
    follows that order, not the order they were given in.)"""
    p = coco_eval.params
    t = int(np.argmin(np.abs(np.asarray(p.iouThrs) - 0.5)))
    a = list(p.areaRngLbl).index('all')
    m = list(p.maxDets).index(100)
    prec = coco_eval.eval['precision'][t, :, :, a, m]  # shape: [R, K]
    out = np.full(prec.shape[1], np.nan)
    for k in range(prec.shape[1]):
        v = prec[:, k]
        v = v[v > -1]
        if v.size:
            out[k] = float(np.mean(v))
    order = {int(c): k for k, c in enumerate(p.catIds)}
    return np.array([out[order[int(c)]] for c in cat_ids])


@METRICS.register_module()
class OVCocoBoxMetric(BaseMetric):
    """Box AP50 on an open vocabulary: ``novel_ap50``, ``base_ap50``, ``all_ap50`` (means of per-class AP50 over
    the classes with ground truth; fractions in [0, 1]), and ``all_ap`` (AP@[.5:.95]), ``all_ap75`` over all
    classes. ``novel_classes=[]`` (transfer evaluation): only the ``all_*`` keys.

    One ``COCOeval`` (standard parameters: 101 recall points, up to 100 detections per image) over the dataset's
    classes; a split's AP50 equals pycocotools' ``stats[1]`` with ``params.catIds`` set to that split.

    Args:
        ann_file: the ground-truth json (e.g. the OV-COCO val json with the 65 classes).
        novel_classes: the novel classes (:func:`clipself.det.vocab.novel_names`); default: the categories
            whose ``'split'`` field is ``'novel'`` in ``ann_file`` (``tools/prepare_ov_coco.py`` writes it);
            ``[]``: no split.
        outfile_prefix: write ``{prefix}.bbox.json`` (detections, COCO results format) and
            ``{prefix}.metrics.json``; ``OVDetectionHook`` points it into the work dir when unset.
    Labels map to category ids by class name (``dataset_meta['classes']``).
    """

    default_prefix: Optional[str] = ''   # keys without a prefix: novel_ap50, bbox_APr ...

    def __init__(self, *, ann_file: str, novel_classes: NovelSpec = None, outfile_prefix: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None, backend_args: Optional[dict] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        from pycocotools.coco import COCO
        self.ann_file = ann_file
        with get_local_path(ann_file, backend_args=backend_args) as path, quiet():
            self._coco = COCO(path)
        self.novel_spec = novel_classes
        self._no_split = novel_classes is not None and not isinstance(novel_classes, dict) and not novel_classes
        self.outfile_prefix = outfile_prefix

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(collect(data_samples))

    def _novel(self, classes: Sequence[str]) -> List[str]:
        if self.novel_spec is not None:
            names = novel_names(self.novel_spec)
        else:
            cats = self._coco.dataset['categories']
            if not all('split' in c for c in cats):
                raise ValueError(f'{self.ann_file} has no "split" field in its categories: give the metric '
                                 'novel_classes=... (e.g. dict(vocabulary="ov-coco", split="novel"))')
            names = [c['name'] for c in cats if c['split'] == 'novel']
        missing = [n for n in names if n not in classes]
        if missing:
            raise ValueError(f'novel classes {missing[:5]} are not among the dataset classes')
        return names

    def compute_metrics(self, results: list) -> Dict[str, float]:
        from pycocotools.cocoeval import COCOeval
        classes = list(self.dataset_meta['classes'])
        cat_ids = label_to_category(classes, self._coco.dataset['categories'], self.ann_file)
        novel = set(self._novel(classes))
        img_ids = check_image_ids([r['img_id'] for r in results], self._coco.getImgIds(), self.ann_file)
        dets = to_json_results(results, cat_ids)
        per_class = np.zeros(len(classes))
        ap = ap75 = 0.0
        if dets:
            with quiet():
                coco_dt = self._coco.loadRes(copy.deepcopy(dets))  # loadRes edits them
                ev = COCOeval(self._coco, coco_dt, 'bbox')
                ev.params.catIds = list(cat_ids)
                ev.params.imgIds = img_ids
                ev.evaluate()
                ev.accumulate()
                ev.summarize()
            per_class = ap50_per_class(ev, cat_ids)
            ap, ap75 = float(ev.stats[0]), float(ev.stats[2])
        else:
            print_log('no detections: every AP is 0', logger='current', level=logging.WARNING)
        has_gt = np.array([len(self._coco.getAnnIds(imgIds=img_ids, catIds=[c], iscrowd=False)) > 0
                           for c in cat_ids])
        per_class = np.where(has_gt, per_class, np.nan)
        is_novel = np.array([n in novel for n in classes], dtype=bool)
        splits = [('all_ap50', np.ones_like(is_novel))]
        if not self._no_split:
            splits = [('novel_ap50', is_novel), ('base_ap50', ~is_novel)] + splits
        out = OrderedDict()
        for key, sel in splits:
            vals = per_class[sel & has_gt]
            out[key] = float(np.mean(vals)) if vals.size else float('nan')
            if not vals.size:
                print_log(f'{key}: no ground truth of these classes in the evaluated images (nan)',
                          logger='current', level=logging.WARNING)
        for key, v in (('all_ap', ap), ('all_ap75', ap75)):
            out[key] = v if has_gt.any() else float('nan')
        print_log('OV-COCO box AP50: ' + ', '.join(f'{k} {v * 100:.2f}' for k, v in out.items()),
                  logger='current', level=logging.INFO)
        write_outputs(self.outfile_prefix, 'bbox', dets, dict(
            metrics=dict(out), ann_file=self.ann_file, images=len(img_ids),
            per_class_ap50={n: (None if np.isnan(v) else float(v)) for n, v in zip(classes, per_class)},
            novel_classes=sorted(novel)))
        return dict(out)
