"""The demo's RegionCLIP-style row (``tools/demo_pipeline.py --regionclip``; off in ``make demo``): the baseline of
the CLIPSelf paper distilled on the same scenes, with the same budget, as the CLIPSelf proposals run.

RegionCLIP's pseudo-labels, made the way its recipe makes them: the original CLIP names the crop of each proposal
(the box enlarged 1.5x, as CLIPSelf's teacher sees it) with the best of the world's nouns (the 8 shapes and 2
textures, ViLD prompt ensemble); the 20 highest-scoring proposals of each training scene, so labelled, are the box
file; the nouns embedded by the same text tower are the noun file. Then
``configs/clipself/regionclip_tiny_synthetic.py`` trains the CLIP on them (epochs, batch, lr and schedule of the
CLIPSelf runs) and its student is evaluated like theirs. Figures: ``regionclip.rois.thing.macc1`` ..., ``regionclip.clip_zeroshot_top1`` and
``regionclip.pseudo_label_top1`` (the share of proposals that overlap a shape, IoU >= 0.5, named as that shape).
"""
import json
import os
import time
from typing import Dict, List, Tuple

import numpy as np
import torch

from ..fileio import write_json
from .settings import CROP, MODEL, ROOT, SCENE
from .stages import train_on_schedule

MAX_BOXES = 20  # per scene, as the reference's box file is read


def pseudo_label(clip_path: str, train_root: str, out_json: str, out_nouns: str) -> Dict[str, float]:
    """Write the box file ``out_json`` (COCO instances json: the nouns as categories, the labelled proposals as
    annotations) and the noun file ``out_nouns`` (``.pt``) from the scenes under ``train_root``; returns
    ``{'regionclip.pseudo_label_top1': %, 'regionclip.pseudo_boxes': count}``."""
    from PIL import Image
    from torchvision.ops import box_iou

    from ..data.sampling import enlarge_boxes
    from ..data.synthetic import BACKGROUNDS, SHAPES
    from ..data.transforms import crop_resize_pad
    from ..models import build_clip
    from ..models.text import build_text_embeddings, save_text_embeddings
    nouns = list(SHAPES) + list(BACKGROUNDS)
    clip = build_clip(MODEL, pretrained=clip_path).eval()
    text = build_text_embeddings(clip, nouns)  # shape: [10, D]
    save_text_embeddings(out_nouns, nouns, text, model_name=MODEL)
    with open(os.path.join(train_root, 'annotations', 'instances.json')) as f:
        instances = json.load(f)
    with open(os.path.join(train_root, 'annotations', 'proposals.json')) as f:
        proposals = json.load(f)
    by_image: Dict[int, List[dict]] = {}
    for p in proposals:
        by_image.setdefault(p['image_id'], []).append(p)
    truth: Dict[int, List[Tuple[list, int]]] = {}
    for a in instances['annotations']:
        truth.setdefault(a['image_id'], []).append((a['bbox'], a['category_id'] - 1))
    annotations, right, matched = [], 0, 0
    for im in instances['images']:
        props = sorted(by_image.get(im['id'], []), key=lambda p: -p['score'])[:MAX_BOXES]
        if not props:
            continue
        xyxy = np.array([[x, y, x + w, y + h] for x, y, w, h in (p['bbox'] for p in props)], np.float32)
        with Image.open(os.path.join(train_root, 'images', im['file_name'])) as f:
            img = f.convert('RGB')
        crops = torch.stack([crop_resize_pad(img, b, CROP)
                             for b in enlarge_boxes(xyxy, 1.5, (img.height, img.width))])  # shape: [K, 3, T, T]
        with torch.no_grad():
            labels = (clip.encode_image(clip.normalize_pixels(crops)) @ text.T).argmax(1)  # shape: [K]
        for p, label in zip(props, labels.tolist()):
            annotations.append(dict(id=len(annotations) + 1, image_id=im['id'], category_id=label + 1,
                                    bbox=p['bbox'], area=p['bbox'][2] * p['bbox'][3], iscrowd=0))
        gt = truth.get(im['id'], [])
        if gt:
            gt_xyxy = torch.tensor([[x, y, x + w, y + h] for (x, y, w, h), _ in gt])
            iou, best = box_iou(torch.from_numpy(xyxy), gt_xyxy).max(1)
            for k in torch.nonzero(iou >= 0.5).flatten().tolist():
                matched += 1
                right += int(labels[k]) == gt[int(best[k])][1]
    write_json(dict(images=instances['images'], annotations=annotations,
                    categories=[dict(id=i + 1, name=n) for i, n in enumerate(nouns)]), out_json)
    return {'regionclip.pseudo_label_top1': 100.0 * right / max(matched, 1),
            'regionclip.pseudo_boxes': float(len(annotations))}


def train_regionclip(clip_path: str, train_root: str, ann_file: str, noun_file: str, work_dir: str, size: dict,
                     seed: int) -> str:
    """One RegionCLIP-style run (``configs/clipself/regionclip_tiny_synthetic.py`` with the demo CLIP, the
    CLIPSelf runs' schedule); returns its work dir."""
    from mmengine.config import Config
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'clipself', 'regionclip_tiny_synthetic.py'))
    cfg.model.clip = dict(model_name=MODEL, pretrained=clip_path)
    cfg.model.noun_embeddings = noun_file
    ds = cfg.train_dataloader.dataset
    ds.update(data_root=train_root + '/', ann_file=ann_file, student_size=SCENE, max_boxes=MAX_BOXES,
              nouns=noun_file, seed=seed)
    ds.pop('generate', None)
    train_on_schedule(cfg, size, seed, work_dir, 'regionclip')  # the CLIPSelf runs' schedule
    return cfg.work_dir


def regionclip_and_evaluate(clip_path: str, train_root: str, val_root: str, out_dir: str, size: dict, seed: int,
                            zero_shot: tuple) -> Dict[str, float]:
    """Pseudo-label, train, evaluate the student (alpha 1, as the CLIPSelf rows): the row's figures."""
    from ..models import build_clip
    from .pretrain import zero_shot_accuracy
    from .stages import export_student, region_classification
    t1 = time.time()
    run_data = os.path.join(out_dir, 'regionclip_data')
    os.makedirs(run_data, exist_ok=True)
    ann_file = os.path.join(run_data, 'pseudo_boxes.json')
    noun_file = os.path.join(run_data, 'nouns.pt')
    res = pseudo_label(clip_path, train_root, ann_file, noun_file)
    run_dir = train_regionclip(clip_path, train_root, os.path.abspath(ann_file), noun_file, out_dir, size, seed)
    res['seconds.distill_regionclip'] = round(time.time() - t1)
    student = export_student(run_dir, size['epochs'])['student']
    metrics = region_classification(dict(model_name=MODEL, pretrained=student), val_root, out_dir, 'regionclip')
    res.update({f'regionclip.{k}': v for k, v in metrics.items()})
    images, labels, classes, text = zero_shot
    res['regionclip.clip_zeroshot_top1'] = zero_shot_accuracy(build_clip(MODEL, pretrained=student), images, labels,
                                                              classes, text=text)
    return res


def describe_regionclip(res: dict) -> str:
    """The console line of the finished RegionCLIP-style run."""
    return (f'[demo] regionclip: rois {res["regionclip.rois.thing.macc1"]:.1f} (pseudo-labels right on '
            f'{res["regionclip.pseudo_label_top1"]:.1f}% of the proposals on a shape), image zero-shot '
            f'{res["regionclip.clip_zeroshot_top1"]:.3f} ({res["seconds.distill_regionclip"]} s)')


def regionclip_lines(r: dict) -> List[str]:
    """The report's sentence on the RegionCLIP-style row (none when the run had no such row)."""
    if 'regionclip.rois.thing.macc1' not in r:
        return []
    return [f"RegionCLIP-style baseline (`--regionclip`): the original CLIP named the crops of the "
            f"{int(r['regionclip.pseudo_boxes'])} highest-scoring proposals (at most {MAX_BOXES} per scene) with the "
            f"world's 10 nouns ({r['regionclip.pseudo_label_top1']:.1f}% right where a proposal overlaps a shape); "
            f"the student was trained to name its RoI features so (federated BCE, the CLIP's logit scale) with the "
            f"CLIPSelf runs' schedule: rois thing top-1 {r['regionclip.rois.thing.macc1']:.1f}, against "
            f"{r['after.rois.thing.macc1']:.1f} with CLIPSelf (proposals) and {r['before.rois.thing.macc1']:.1f} "
            "before.", '']
