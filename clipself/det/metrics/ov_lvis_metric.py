"""OV-LVIS: mask and box AP, AP_r, AP_c, AP_f with the LVIS API (numpy 2 compatible)."""
import copy
import logging
import math
from collections import OrderedDict
from typing import Dict, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import print_log
from mmdet.registry import METRICS

from .common import (check_image_ids, collect, label_to_category, numpy_float_alias, quiet, to_json_results,
                     write_outputs)

LVIS_KEYS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'APr', 'APc', 'APf')


@METRICS.register_module()
class OVLVISMetric(BaseMetric):
    """``{iou}_AP``, ``{iou}_APr`` (the novel classes), ``{iou}_APc``, ``{iou}_APf`` (and AP50/75/s/m/l) for
    ``iou`` in ``metric`` (``'segm'``, ``'bbox'``), fractions in [0, 1]; ``nan`` where no evaluated class has
    ground truth (the LVIS API's -1).

    Args:
        ann_file: the LVIS v1 val json (categories with ``frequency``; images with ``neg_category_ids`` and
            ``not_exhaustive_category_ids``).
        metric: ``'segm'``, ``'bbox'`` or both.
        max_dets: detections per image kept (LVIS: 300).
        outfile_prefix: write ``{prefix}.{bbox,segm}.json`` and ``{prefix}.metrics.json``.
    Labels map to category ids by class name (``dataset_meta['classes']``).
    """

    default_prefix: Optional[str] = ''   # keys without a prefix: novel_ap50, bbox_APr ...

    def __init__(self, *, ann_file: str, metric=('bbox', 'segm'), max_dets: int = 300,
                 outfile_prefix: Optional[str] = None, collect_device: str = 'cpu', prefix: Optional[str] = None,
                 backend_args: Optional[dict] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        from lvis import LVIS
        self.metrics = [metric] if isinstance(metric, str) else list(metric)
        bad = [m for m in self.metrics if m not in ('bbox', 'segm')]
        if bad or not self.metrics:
            raise ValueError(f'metric must be bbox and/or segm, got {metric}')
        self.ann_file = ann_file
        with get_local_path(ann_file, backend_args=backend_args) as path, quiet():
            self._lvis = LVIS(path)
        cats = self._lvis.dataset['categories']
        if not all('frequency' in c for c in cats):
            raise ValueError(f'{ann_file}: not an LVIS json (categories need a "frequency" field)')
        img = self._lvis.dataset['images'][0] if self._lvis.dataset['images'] else {}
        if img and not ('neg_category_ids' in img and 'not_exhaustive_category_ids' in img):
            raise ValueError(f'{ann_file}: not an LVIS json (images need neg_category_ids and '
                             'not_exhaustive_category_ids)')
        self.max_dets = max_dets
        self.outfile_prefix = outfile_prefix

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(collect(data_samples, with_masks='segm' in self.metrics))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        from lvis import LVISEval, LVISResults
        classes = list(self.dataset_meta['classes'])
        cat_ids = label_to_category(classes, self._lvis.dataset['categories'], self.ann_file)
        img_ids = check_image_ids([r['img_id'] for r in results], self._lvis.get_img_ids(), self.ann_file)
        out = OrderedDict()
        all_dets = {}
        for iou in self.metrics:
            if iou == 'segm' and any('masks' not in r for r in results):
                raise ValueError('segm metric without predicted masks (the model has no mask head?)')
            dets = to_json_results(results, cat_ids, with_masks=iou == 'segm')
            if iou == 'segm':
                for d in dets:
                    d.pop('bbox')  # areas from the masks, not the boxes
            all_dets[iou] = dets
            if not dets:
                print_log(f'{iou}: no detections: every AP is 0', logger='current', level=logging.WARNING)
                for k in LVIS_KEYS:
                    out[f'{iou}_{k}'] = 0.0
                continue
            with numpy_float_alias(), quiet():
                lvis_dt = LVISResults(self._lvis, copy.deepcopy(dets), max_dets=self.max_dets)  # it edits them
                ev = LVISEval(self._lvis, lvis_dt, iou)
                ev.params.img_ids = img_ids  # (lvis' name; mmdet's LVISMetric sets an unused imgIds)
                ev.params.cat_ids = sorted(cat_ids)
                ev.run()
                res = ev.get_results()
            for k in LVIS_KEYS:
                v = float(res[k])
                out[f'{iou}_{k}'] = float('nan') if v == -1 else v
        print_log('OV-LVIS: ' + ', '.join(f'{k} {v * 100:.2f}' for k, v in out.items() if k.split('_')[1] in
                                          ('AP', 'APr', 'APc', 'APf')), logger='current', level=logging.INFO)
        if self.outfile_prefix:
            for iou, dets in all_dets.items():
                write_outputs(self.outfile_prefix, iou, dets, dict(
                    metrics={k: (None if math.isnan(v) else v) for k, v in out.items()}, ann_file=self.ann_file,
                    images=len(img_ids)))
        return dict(out)
