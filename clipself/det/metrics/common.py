"""What the OV metrics share: collecting predictions, mapping labels to category ids by name, writing json."""
import contextlib
import logging
from typing import Dict, List, Sequence

import numpy as np
from mmengine.logging import print_log

from ..prepare import save_json


def collect(data_samples: Sequence[dict], *, with_masks: bool = False) -> List[dict]:
    """Per image: ``img_id``, ``bboxes [n, 4]`` xyxy (original-image pixels), ``scores [n]``, ``labels [n]``
    (indices into the dataset classes), and RLE ``masks`` when present and asked for."""
    out = []
    for s in data_samples:
        pred = s['pred_instances']
        r = dict(img_id=int(s['img_id']), bboxes=pred['bboxes'].detach().cpu().numpy().astype(np.float64),
                 scores=pred['scores'].detach().cpu().numpy().astype(np.float64),
                 labels=pred['labels'].detach().cpu().numpy().astype(np.int64))
        if with_masks and 'masks' in pred:
            from mmdet.structures.mask import encode_mask_results
            r['masks'] = encode_mask_results(pred['masks'].detach().cpu().numpy())
        out.append(r)
    return out


def label_to_category(classes: Sequence[str], categories: Sequence[dict], ann_file: str) -> List[int]:
    """Category id of each dataset class, by name (never by position: the json's order may differ)."""
    by_name = {c['name']: c['id'] for c in categories}
    missing = [n for n in classes if n not in by_name]
    if missing:
        raise ValueError(f'{len(missing)} dataset classes are not categories of {ann_file}: {missing[:5]} '
                         '(the metric and the dataset must read the same vocabulary)')
    return [by_name[n] for n in classes]


def to_json_results(results: Sequence[dict], cat_ids: Sequence[int], *, with_masks: bool = False) -> List[dict]:
    """COCO/LVIS detection results: ``{image_id, category_id, bbox [x, y, w, h], score[, segmentation]}``."""
    dets = []
    for r in results:
        for k in range(len(r['scores'])):
            label = int(r['labels'][k])
            if not 0 <= label < len(cat_ids):
                raise ValueError(f'predicted label {label} outside the {len(cat_ids)} dataset classes')
            x1, y1, x2, y2 = (float(v) for v in r['bboxes'][k])
            d = dict(image_id=r['img_id'], category_id=int(cat_ids[label]), bbox=[x1, y1, x2 - x1, y2 - y1],
                     score=float(r['scores'][k]))
            if with_masks:
                rle = dict(r['masks'][k])
                if isinstance(rle['counts'], bytes):
                    rle['counts'] = rle['counts'].decode('ascii')
                d['segmentation'] = rle
            dets.append(d)
    return dets


def write_outputs(prefix: str, name: str, dets: List[dict], metrics: Dict) -> None:
    """``{prefix}.{name}.json`` (detections) and ``{prefix}.metrics.json`` (metrics, per-class values)."""
    if not prefix:
        return
    save_json(dets, f'{prefix}.{name}.json')
    save_json(metrics, f'{prefix}.metrics.json')
    print_log(f'wrote {prefix}.{name}.json and {prefix}.metrics.json', logger='current', level=logging.INFO)


def check_image_ids(processed: Sequence[int], gt_ids: Sequence[int], ann_file: str) -> List[int]:
    """The images to evaluate: those processed. Ones missing from the ground truth are an error; ground-truth
    images that were not processed are left out of the evaluation with a warning."""
    proc, gt = set(processed), set(gt_ids)
    unknown = proc - gt
    if unknown:
        raise ValueError(f'{len(unknown)} evaluated images are not in {ann_file} (e.g. {sorted(unknown)[:3]})')
    if len(proc) != len(processed):
        raise ValueError('some images were evaluated twice')
    if proc != gt:
        print_log(f'evaluating {len(proc)} of the {len(gt)} images of {ann_file}: the metric covers those only',
                  logger='current', level=logging.WARNING)
    return sorted(proc)


@contextlib.contextmanager
def numpy_float_alias():
    """lvis 0.5.3 calls ``np.float`` (removed in numpy 2): provide the alias for the duration of the block only."""
    added = 'float' not in np.__dict__
    if added:
        np.float = float  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if added:
            del np.float


@contextlib.contextmanager
def quiet(enabled: bool = True):
    """Send the evaluators' prints to the log (DEBUG) instead of stdout."""
    if not enabled:
        yield
        return
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        yield
    text = buf.getvalue().strip()
    if text:
        print_log(text, logger='current', level=logging.INFO)
