"""Annotation files of the open-vocabulary benchmarks, from the official ones (plain json in, json out).

- OV-COCO (OVR-CNN split, 48 base + 17 novel): :func:`ov_split` on ``instances_train2017.json`` keeps the 65
  categories (each with a ``'split'`` field) and only base-class annotations, dropping images left without one;
  on ``instances_val2017.json`` it keeps the annotations of all 65 classes.
- OV-LVIS: :func:`drop_rare` removes the annotations of rare (``frequency == 'r'``) categories from the LVIS v1
  train json; all 1203 categories stay so labels match the val json.
"""
import json
from collections import Counter
from typing import Dict, Optional, Sequence

from ..fileio import write_json


def load_json(path: str) -> dict:
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def save_json(obj, path: str) -> None:
    """Atomic write (temporary file in the same folder, then rename); creates the folder."""
    write_json(obj, path)


def _check_annotations(data: dict) -> None:
    known = {c['id'] for c in data['categories']}
    for a in data['annotations']:
        if a['category_id'] not in known:
            raise ValueError(f'annotation {a.get("id")} refers to category {a["category_id"]}, which is not among '
                             f'the {len(known)} categories of the file')


def ov_split(data: dict, *, classes: Sequence[str], novel: Sequence[str], train: bool,
             keep_images_without_annotations: bool = False) -> dict:
    """An open-vocabulary split of a COCO instances json.

    Args:
        data: the COCO instances json (``images``, ``annotations``, ``categories``).
        classes: names of the categories to keep (e.g. the 65 OV-COCO classes).
        novel: the novel names among them (marked ``'split': 'novel'``, the others ``'base'``).
        train: keep base-class annotations only and drop images without one; else keep the annotations of
            all ``classes``.
        keep_images_without_annotations: (val) keep images with no annotation of ``classes``; by default they
            are dropped, as in the standard OV-COCO val file.
    Returns:
        a new json dict (``info``/``licenses`` kept); a summary in ``out['ov_split']``.
    """
    _check_annotations(data)
    cats = {c['name']: c for c in data['categories']}
    missing = [n for n in list(classes) + list(novel) if n not in cats]
    if missing:
        raise ValueError(f'classes {missing[:5]} are not categories of the file')
    novel_set = set(novel)
    out_cats = [dict(cats[n], split='novel' if n in novel_set else 'base') for n in classes]
    out_cats.sort(key=lambda c: c['id'])
    keep_ids = {c['id'] for c in out_cats if not (train and c['split'] == 'novel')}
    anns = [a for a in data['annotations'] if a['category_id'] in keep_ids]
    with_ann = {a['image_id'] for a in anns}
    keep_images = train is False and keep_images_without_annotations
    images = [im for im in data['images'] if keep_images or im['id'] in with_ann]
    out = {k: v for k, v in data.items() if k not in ('images', 'annotations', 'categories')}
    out.update(images=images, annotations=anns, categories=out_cats)
    per_split = Counter('novel' if a['category_id'] in {cats[n]['id'] for n in novel_set} else 'base' for a in anns)
    out['ov_split'] = dict(train=train, images=len(images), annotations=len(anns), base_annotations=per_split['base'],
                           novel_annotations=per_split['novel'], classes=len(out_cats), novel_classes=len(novel_set),
                           dropped_images=len(data['images']) - len(images))
    return out


def drop_rare(data: dict, *, frequencies: Sequence[str] = ('r',)) -> dict:
    """The LVIS json without the annotations of categories whose ``frequency`` is in ``frequencies``.
    Categories and images stay (labels keep their meaning; images without annotations are filtered at
    training time). A summary in ``out['ov_split']``."""
    _check_annotations(data)
    if any('frequency' not in c for c in data['categories']):
        raise ValueError('drop_rare needs LVIS categories with a "frequency" field')
    held = {c['id'] for c in data['categories'] if c['frequency'] in frequencies}
    anns = [a for a in data['annotations'] if a['category_id'] not in held]
    out = {k: v for k, v in data.items() if k != 'annotations'}
    out['annotations'] = anns
    out['ov_split'] = dict(held_out_classes=len(held), annotations=len(anns),
                           dropped_annotations=len(data['annotations']) - len(anns))
    return out


def summary(data: dict) -> Dict[str, int]:
    """Counts to print: images, annotations, categories."""
    return dict(images=len(data.get('images', [])), annotations=len(data.get('annotations', [])),
                categories=len(data.get('categories', [])))


def write_class_embeddings(out: str, *, model_name: str, pretrained: Optional[str], class_names: Sequence[str],
                           prompt_names: Optional[Sequence[str]] = None, device: str = 'cpu') -> None:
    """Embed ``prompt_names`` (default ``class_names``) with the CLIP's text tower (ViLD prompt ensemble) and save
    them under ``class_names`` (:func:`clipself.models.text.save_text_embeddings`)."""
    from ..models import build_clip
    from ..models.text import build_text_embeddings, save_text_embeddings
    model = build_clip(model_name, pretrained=pretrained, device=device)
    emb = build_text_embeddings(model, list(prompt_names or class_names))
    save_text_embeddings(out, list(class_names), emb, model_name=model.model_name)


def model_tag(name: str) -> str:
    """'EVA02-B-16' -> 'eva02-b16', 'EVA02-L-14-336' -> 'eva02-l14-336', 'ViT-B-16' -> 'vit-b16'."""
    parts = name.lower().split('-')
    out = [parts[0]]
    i = 1
    while i < len(parts):
        if parts[i].isalpha() and len(parts[i]) == 1 and i + 1 < len(parts) and parts[i + 1].isdigit():
            out.append(parts[i] + parts[i + 1])
            i += 2
        else:
            out.append(parts[i])
            i += 1
    return '-'.join(out)
