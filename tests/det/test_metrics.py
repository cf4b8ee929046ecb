"""OV-COCO and OV-LVIS metrics: equal to pycocotools / the LVIS API run directly, clear errors otherwise."""
import json
import math
import os

import numpy as np
import pytest
import torch

from clipself.det.prepare import save_json

from .tiny import register

NAMES = ['person', 'cat', 'dog', 'kite', 'sofa']
IDS = [1, 17, 18, 38, 63]
NOVEL = ['cat', 'sofa']


def make_gt(rng, n_images=12):
    cats = [dict(id=i, name=n, split='novel' if n in NOVEL else 'base') for i, n in zip(IDS, NAMES)]
    cats = [cats[k] for k in (3, 0, 4, 2, 1)]   # not in id order: the metric must match by name
    images, anns = [], []
    for im in range(1, n_images + 1):
        images.append(dict(id=im, file_name=f'{im}.jpg', height=100, width=120))
        for _ in range(rng.integers(0, 4)):
            x, y = rng.uniform(0, 80, 2)
            w, h = rng.uniform(8, 40, 2)
            anns.append(dict(id=len(anns) + 1, image_id=im, category_id=int(rng.choice(IDS[:4])),  # no sofa GT
                             bbox=[x, y, w, h], area=w * h, iscrowd=int(rng.random() < 0.05)))
    return dict(images=images, annotations=anns, categories=cats)


def make_dets(rng, gt, classes):
    """Per image: jittered GT boxes (right or wrong class) plus random boxes, labels indexing ``classes``."""
    name_of = {c['id']: c['name'] for c in gt['categories']}
    out = []
    for im in gt['images']:
        boxes, scores, labels = [], [], []
        for a in [a for a in gt['annotations'] if a['image_id'] == im['id']]:
            x, y, w, h = a['bbox']
            j = rng.normal(0, 3, 4)
            boxes.append([x + j[0], y + j[1], x + w + j[2], y + h + j[3]])
            name = name_of[a['category_id']] if rng.random() < 0.7 else str(rng.choice(classes))
            labels.append(classes.index(name))
            scores.append(rng.random())
        for _ in range(rng.integers(0, 5)):
            x, y = rng.uniform(0, 80, 2)
            boxes.append([x, y, x + rng.uniform(5, 40), y + rng.uniform(5, 40)])
            labels.append(int(rng.integers(len(classes))))
            scores.append(rng.random())
        out.append(dict(img_id=im['id'], pred_instances=dict(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), scores=torch.tensor(scores),
            labels=torch.tensor(labels, dtype=torch.long))))
    return out


def run_metric(metric, classes, samples):
    metric.dataset_meta = dict(classes=tuple(classes))
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def direct_ap50(gt_path, samples, classes, cat_names):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        by_name = {c['name']: c['id'] for c in gt.dataset['categories']}
        dets = []
        for s in samples:
            p = s['pred_instances']
            for b, sc, lb in zip(p['bboxes'].tolist(), p['scores'].tolist(), p['labels'].tolist()):
                dets.append(dict(image_id=s['img_id'], category_id=by_name[classes[lb]],
                                 bbox=[b[0], b[1], b[2] - b[0], b[3] - b[1]], score=sc))
        ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
        ev.params.catIds = [by_name[n] for n in cat_names]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


@pytest.mark.parametrize('seed', [0, 1])
def test_ov_coco_metric_equals_pycocotools(tmp_path, seed):
    register()
    from clipself.det import OVCocoBoxMetric
    rng = np.random.default_rng(seed)
    gt = make_gt(rng)
    path = str(tmp_path / 'gt.json')
    save_json(gt, path)
    classes = ['sofa', 'dog', 'person', 'kite', 'cat']   # any order: labels index this list
    samples = make_dets(rng, gt, classes)
    res = run_metric(OVCocoBoxMetric(ann_file=path, outfile_prefix=str(tmp_path / 'out')), classes, samples)
    assert set(res) == {'novel_ap50', 'base_ap50', 'all_ap50', 'all_ap', 'all_ap75'}
    novel_with_gt = ['cat']   # the sofa has no ground truth: it does not count
    assert res['novel_ap50'] == pytest.approx(direct_ap50(path, samples, classes, novel_with_gt)[1], abs=1e-12)
    assert res['novel_ap50'] == pytest.approx(direct_ap50(path, samples, classes, NOVEL)[1], abs=1e-12)
    base = [n for n in classes if n not in NOVEL]
    assert res['base_ap50'] == pytest.approx(direct_ap50(path, samples, classes, base)[1], abs=1e-12)
    stats = direct_ap50(path, samples, classes, classes)
    assert res['all_ap50'] == pytest.approx(stats[1], abs=1e-12)
    assert (res['all_ap'], res['all_ap75']) == (pytest.approx(stats[0], abs=1e-12), pytest.approx(stats[2], abs=1e-12))
    assert 0 < res['base_ap50'] < 1
    # results written as json
    written = json.load(open(tmp_path / 'out.metrics.json'))
    assert written['metrics']['novel_ap50'] == res['novel_ap50'] and written['per_class_ap50']['sofa'] is None
    dets = json.load(open(tmp_path / 'out.bbox.json'))
    assert len(dets) == sum(len(s['pred_instances']['scores']) for s in samples)


def test_ov_coco_metric_edge_cases(tmp_path):
    register()
    from clipself.det import OVCocoBoxMetric
    rng = np.random.default_rng(0)
    gt = make_gt(rng)
    path = str(tmp_path / 'gt.json')
    save_json(gt, path)
    empty = [dict(img_id=im['id'], pred_instances=dict(bboxes=torch.zeros(0, 4), scores=torch.zeros(0),
                                                        labels=torch.zeros(0, dtype=torch.long)))
             for im in gt['images']]
    res = run_metric(OVCocoBoxMetric(ann_file=path), NAMES, empty)
    assert res['novel_ap50'] == 0.0 and res['base_ap50'] == 0.0 and res['all_ap'] == 0.0
    with pytest.raises(ValueError, match="\\['bed'\\]"):
        run_metric(OVCocoBoxMetric(ann_file=path), NAMES[:4] + ['bed'], empty)
    with pytest.raises(ValueError, match='not in'):
        run_metric(OVCocoBoxMetric(ann_file=path), NAMES, [dict(empty[0], img_id=999)])
    # no split in the file and none given
    gt2 = dict(gt, categories=[{k: v for k, v in c.items() if k != 'split'} for c in gt['categories']])
    save_json(gt2, path)
    with pytest.raises(ValueError, match='no "split" field'):
        run_metric(OVCocoBoxMetric(ann_file=path), NAMES, empty)
    res = run_metric(OVCocoBoxMetric(ann_file=path, novel_classes=['cat']), NAMES, empty)
    assert set(res) >= {'novel_ap50', 'base_ap50'}
    assert set(run_metric(OVCocoBoxMetric(ann_file=path, novel_classes=[]), NAMES, empty)) == \
        {'all_ap50', 'all_ap', 'all_ap75'}


def lvis_gt(rng):
    from pycocotools import mask as mask_utils
    freqs = ['r', 'c', 'f', 'f', 'c', 'r']
    cats = [dict(id=i + 1, name=f'thing_{i}', frequency=f, synset=f'x.n.0{i}', synonyms=[f'thing_{i}'])
            for i, f in enumerate(freqs)]
    images, anns = [], []
    for im in range(1, 9):
        images.append(dict(id=im, coco_url=f'http://images.cocodataset.org/val2017/{im:012d}.jpg', height=64,
                           width=64, neg_category_ids=[6] if im == 1 else [], not_exhaustive_category_ids=[]))
        for _ in range(rng.integers(1, 3)):
            x, y = (int(v) for v in rng.integers(0, 40, 2))
            w, h = (int(v) for v in rng.integers(8, 24, 2))
            m = np.zeros((64, 64), np.uint8)
            m[y:y + h, x:x + w] = 1
            rle = mask_utils.encode(np.asfortranarray(m))
            rle['counts'] = rle['counts'].decode('ascii')
            anns.append(dict(id=len(anns) + 1, image_id=im, category_id=int(rng.integers(1, 6)),
                             bbox=[x, y, w, h], area=float(w * h), segmentation=rle))
    return dict(images=images, annotations=anns, categories=cats)


def test_ov_lvis_metric(tmp_path):
    """Perfect predictions give AP 1 through the LVIS API (numpy 2: np.float is provided only meanwhile); every
    key is there; a frequency group without ground truth is nan, not a number that looks measured."""
    register()
    from clipself.det import OVLVISMetric
    from pycocotools import mask as mask_utils
    rng = np.random.default_rng(0)
    gt = lvis_gt(rng)
    path = str(tmp_path / 'lvis.json')
    save_json(gt, path)
    classes = [c['name'] for c in gt['categories']]
    samples = []
    for im in gt['images']:
        anns = [a for a in gt['annotations'] if a['image_id'] == im['id']]
        boxes = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]] for a in anns]
        masks = np.stack([mask_utils.decode(dict(a['segmentation'], counts=a['segmentation']['counts'].encode()))
                          for a in anns]).astype(bool)
        samples.append(dict(img_id=im['id'], pred_instances=dict(
            bboxes=torch.tensor(boxes, dtype=torch.float32), scores=torch.ones(len(anns)),
            labels=torch.tensor([a['category_id'] - 1 for a in anns]), masks=torch.from_numpy(masks))))
    res = run_metric(OVLVISMetric(ann_file=path, outfile_prefix=str(tmp_path / 'lv')), classes, samples)
    for iou in ('bbox', 'segm'):
        for k in ('AP', 'APr', 'APc', 'APf'):
            assert f'{iou}_{k}' in res
        assert res[f'{iou}_AP'] == pytest.approx(1.0)
        has_r = any(a['category_id'] in (1, 6) for a in gt['annotations'])
        assert (res[f'{iou}_APr'] == pytest.approx(1.0)) if has_r else math.isnan(res[f'{iou}_APr'])
    assert 'float' not in np.__dict__
    assert os.path.isfile(tmp_path / 'lv.segm.json') and os.path.isfile(tmp_path / 'lv.metrics.json')
    with pytest.raises(ValueError, match='not an LVIS json'):
        bad = dict(gt, categories=[{k: v for k, v in c.items() if k != 'frequency'} for c in gt['categories']])
        save_json(bad, path)
        OVLVISMetric(ann_file=path)


def test_vocabulary_guard():
    from clipself.det.hooks import check_vocabulary
    check_vocabulary(['a', 'b'], ('a', 'b'), 'test')
    with pytest.raises(ValueError, match='3 classes .*file.pt.* 2 classes'):
        check_vocabulary(['a', 'b', 'c'], ['a', 'b'], 'test', 'file.pt')
    with pytest.raises(ValueError, match="\\(0, 'b', 'a'\\)"):
        check_vocabulary(['b', 'a'], ['a', 'b'], 'validation')
