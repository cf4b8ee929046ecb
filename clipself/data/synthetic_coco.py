"""Write generated scenes to disk in the real formats: COCO instances json, COCO panoptic json + PNGs
(RGB id encoding), and a COCO-detection-result style proposals json. Tests and demos read them through
the same loaders as COCO.

Categories: the shapes are things with ids 1..len(SHAPES) (``split`` 'base' or 'novel' in the category
entries); the background textures are stuff with ids 101, 102, ...
"""
import os
from typing import Dict, Sequence

import numpy as np
from PIL import Image

from ..fileio import write_json
from .synthetic import BACKGROUNDS, SHAPES, Scene, make_scene

STUFF_ID_OFFSET = 101


def categories(novel: Sequence[str] = ()) -> list:
    """COCO ``categories`` entries (things then stuff)."""
    unknown = set(novel) - set(SHAPES)
    if unknown:
        raise ValueError(f'novel classes {sorted(unknown)} are not shapes of the generated world {SHAPES}')
    cats = [dict(id=i + 1, name=s, supercategory='shape', isthing=1, split='novel' if s in novel else 'base')
            for i, s in enumerate(SHAPES)]
    cats += [dict(id=STUFF_ID_OFFSET + i, name=b, supercategory='background', isthing=0)
             for i, b in enumerate(BACKGROUNDS)]
    return cats


def id2rgb(ids: np.ndarray) -> np.ndarray:
    """COCO panoptic encoding: segment id -> RGB with id = R + 256 G + 256^2 B."""
    ids = ids.astype(np.uint32)
    return np.stack([ids % 256, (ids // 256) % 256, ids // 65536], axis=-1).astype(np.uint8)


def _xywh(box) -> list:
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1, y1, x2 - x1, y2 - y1]


def _proposals(rng: np.random.Generator, scene: Scene, per_object: int, num_false: int) -> list:
    """Honest proposals, as a region proposal network's top boxes look: ``per_object`` jittered copies of each
    object's box (centre shifted by ~10% and sides scaled by ~12% of its size, one sigma), plus ``num_false``
    random boxes that frame no object in particular."""
    h, w = scene.image.shape[:2]
    out = []
    for box in scene.boxes:
        x1, y1, x2, y2 = box
        bw, bh = x2 - x1, y2 - y1
        for _ in range(per_object):
            dx, dy = rng.normal(0, 0.1, 2) * (bw, bh)
            sw, sh = np.exp(rng.normal(0, 0.12, 2))
            cx, cy = (x1 + x2) / 2 + dx, (y1 + y2) / 2 + dy
            nb = [max(0.0, cx - bw * sw / 2), max(0.0, cy - bh * sh / 2),
                  min(float(w), cx + bw * sw / 2), min(float(h), cy + bh * sh / 2)]
            if nb[2] - nb[0] >= 4 and nb[3] - nb[1] >= 4:
                out.append((nb, float(rng.uniform(0.5, 1.0))))
    for _ in range(num_false):
        bw, bh = rng.uniform(16, w / 2), rng.uniform(16, h / 2)
        x1, y1 = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
        out.append(([x1, y1, x1 + bw, y1 + bh], float(rng.uniform(0.0, 0.6))))
    return out


def write_synthetic_coco(out_dir: str, *, num_images: int, seed: int = 0, size=(192, 192),
                         novel: Sequence[str] = (), num_objects=(1, 4), object_size=(28, 76),
                         proposals_per_object: int = 8, false_proposals: int = 3,
                         first_image_id: int = 1) -> Dict[str, str]:
    """Generate ``num_images`` scenes and write them. Proposals (see :func:`_proposals`) come from their own
    random stream: the scenes of a seed do not depend on how many proposals are drawn.

    Layout::

        out_dir/images/000001.png ...
        out_dir/annotations/instances.json      COCO instances (bbox xywh, 'segmentation' as RLE)
        out_dir/annotations/panoptic.json       COCO panoptic (segments_info per image)
        out_dir/annotations/panoptic/000001.png RGB-encoded segment ids
        out_dir/annotations/proposals.json      [{image_id, bbox xywh, score, category_id: 1}, ...]

    Returns:
        paths: ``images``, ``instances``, ``panoptic_json``, ``panoptic_png``, ``proposals``.
    """
    from pycocotools import mask as mask_utils
    rng = np.random.default_rng(seed)
    proposal_rng = np.random.default_rng([seed, 1])
    img_dir = os.path.join(out_dir, 'images')
    ann_dir = os.path.join(out_dir, 'annotations')
    pan_dir = os.path.join(ann_dir, 'panoptic')
    for d in (img_dir, pan_dir):
        os.makedirs(d, exist_ok=True)
    cats = categories(novel)
    images, instances, panoptic, proposals = [], [], [], []
    ann_id = 1
    for k in range(num_images):
        image_id = first_image_id + k
        scene = make_scene(rng, size=size, num_objects=num_objects, object_size=object_size)
        h, w = scene.image.shape[:2]
        name = f'{image_id:06d}.png'
        Image.fromarray(scene.image).save(os.path.join(img_dir, name))
        images.append(dict(id=image_id, file_name=name, height=h, width=w))
        seg_ids = np.zeros((h, w), np.uint32)
        segments = []
        for j, (box, mask, label) in enumerate(zip(scene.boxes, scene.masks, scene.labels)):
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            rle['counts'] = rle['counts'].decode('ascii')
            instances.append(dict(id=ann_id, image_id=image_id, category_id=int(label) + 1, bbox=_xywh(box),
                                  area=float(mask.sum()), iscrowd=0, segmentation=rle))
            ann_id += 1
            sid = j + 1
            seg_ids[mask] = sid
            segments.append(dict(id=sid, category_id=int(label) + 1, bbox=_xywh(box), area=int(mask.sum()),
                                 iscrowd=0))
        stuff = seg_ids == 0
        if stuff.any():
            sid = 1000 + scene.background  # any id unused by the things
            seg_ids[stuff] = sid
            ys, xs = np.nonzero(stuff)
            segments.append(dict(id=sid, category_id=STUFF_ID_OFFSET + scene.background,
                                 bbox=[int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                                       int(ys.max() - ys.min() + 1)], area=int(stuff.sum()), iscrowd=0))
        Image.fromarray(id2rgb(seg_ids)).save(os.path.join(pan_dir, name))
        panoptic.append(dict(image_id=image_id, file_name=name, segments_info=segments))
        for box, score in _proposals(proposal_rng, scene, proposals_per_object, false_proposals):
            proposals.append(dict(image_id=image_id, bbox=_xywh(box), score=score, category_id=1))
    thing_cats = [c for c in cats if c['isthing']]
    paths = dict(images=img_dir, instances=os.path.join(ann_dir, 'instances.json'),
                 panoptic_json=os.path.join(ann_dir, 'panoptic.json'), panoptic_png=pan_dir,
                 proposals=os.path.join(ann_dir, 'proposals.json'))
    _dump(paths['instances'], dict(images=images, annotations=instances, categories=thing_cats))
    _dump(paths['panoptic_json'], dict(images=images, annotations=panoptic, categories=cats))
    _dump(paths['proposals'], proposals)
    return paths


def _dump(path: str, obj) -> None:
    write_json(obj, path)
