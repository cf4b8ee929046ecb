"""Test helpers: swap a tiny random CLIP into an F-ViT config, make batches by hand."""
import copy
import os
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

import clipself.det  # noqa: F401
from clipself.det.pyramid import DEFAULT_SCALE_FACTORS, pyramid_strides
from clipself.models.text import save_text_embeddings
from clipself.models.vocabulary import load_vocabulary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG_DIR = os.path.join(ROOT, 'configs', 'fvit')
TINY_WIDTH, TINY_DIM, TINY_PATCH, TINY_FPN = 64, 64, 8, 32


def register():
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)


def vocabulary_for(embeddings_path: Optional[str], num_classes: int) -> List[str]:
    """The class list a config's embeddings file would hold."""
    p = os.path.basename(embeddings_path or '')
    if p.startswith('ov-coco'):
        names = load_vocabulary('ov-coco').names
    elif p.startswith('lvis'):
        names = load_vocabulary('lvis').names
    elif p.startswith('coco'):
        names = load_vocabulary('coco').names
    elif p.startswith('voc'):
        from mmdet.datasets import VOCDataset
        names = list(VOCDataset.METAINFO['classes'])
    else:
        names = [f'class {i}' for i in range(num_classes)]
    assert len(names) == num_classes, (p, len(names), num_classes)
    return list(names)


def write_embeddings(path: str, names: Sequence[str], model_name: str, dim: int = TINY_DIM, seed: int = 0) -> str:
    g = torch.Generator().manual_seed(seed)
    save_text_embeddings(path, list(names), torch.randn(len(names), dim, generator=g), model_name=model_name)
    return path


def _bn(obj):
    """SyncBN -> BN everywhere (single-process CPU tests)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == 'type' and v == 'SyncBN':
                obj[k] = 'BN'
            else:
                _bn(v)
    elif isinstance(obj, list):
        for v in obj:
            _bn(v)
    return obj


def tiny_model_cfg(model_cfg, tmp_dir: str, *, size: int = 64) -> dict:
    """A copy of ``model_cfg`` with the tiny random tower of the same family (EVA02 or OpenAI-style) and the
    widths, strides and embeddings that go with it, and test score threshold 0; everything else (heads, losses,
    ensemble, splits) kept."""
    m = copy.deepcopy(model_cfg.to_dict() if isinstance(model_cfg, ConfigDict) else model_cfg)
    _bn(m)
    eva = m['backbone']['model_name'].startswith('EVA')
    tiny = 'EVA02-Tiny-8' if eva else 'ViT-Tiny-8'
    m['backbone'].update(model_name=tiny, pretrained=None, out_indices=[0, 1, 1, 2])
    factors = m['neck'][0].get('scale_factors', DEFAULT_SCALE_FACTORS)  # the config's pyramid decides the strides
    strides = pyramid_strides(TINY_PATCH, factors)
    dp = m['data_preprocessor']
    dp['pad_size_divisor'] = round(TINY_PATCH / factors[-1])
    if dp.get('fixed_size') is not None:
        dp['fixed_size'] = (size, size)
    if dp.get('test_fixed_size') is not None:
        dp['test_fixed_size'] = (size, size)
    m['neck'][0]['in_channels'] = TINY_WIDTH
    m['neck'][1].update(in_channels=[TINY_WIDTH] * 4, out_channels=TINY_FPN)
    m['rpn_head'].update(in_channels=TINY_FPN, feat_channels=TINY_FPN)
    m['rpn_head']['anchor_generator'].update(strides=strides, scales=[4])
    roi = m['roi_head']
    roi['bbox_roi_extractor'].update(out_channels=TINY_FPN, featmap_strides=strides[:4])
    head = roi['bbox_head']
    head.update(in_channels=TINY_FPN, conv_out_channels=16, fc_out_channels=TINY_DIM)
    clf = head['classifier']
    if clf.get('embeddings') not in (None, 'random'):
        names = vocabulary_for(clf['embeddings'], head['num_classes'])
        path = os.path.join(tmp_dir, f'{os.path.basename(clf["embeddings"])}')
        if not os.path.isfile(path):
            write_embeddings(path, names, tiny)
        clf['embeddings'] = path
    if roi.get('mask_head') is not None:
        roi['mask_roi_extractor'].update(out_channels=TINY_FPN, featmap_strides=strides[:4])
        roi['mask_head'].update(in_channels=TINY_FPN, conv_out_channels=16)
    m['train_cfg']['rpn_proposal'].update(nms_pre=200, max_per_img=100)
    m['train_cfg']['rcnn']['sampler'].update(num=32)
    m['test_cfg']['rpn'].update(nms_pre=200, max_per_img=8)  # x 1203 LVIS classes: one NMS call (< 10k boxes)
    # every detection kept (a random tiny model scores low): predictions are never empty, so checks on them bite
    m['test_cfg']['rcnn']['score_thr'] = 0.0
    return m


def build(model_cfg):
    register()
    from mmdet.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def sample(h: int, w: int, boxes=(), labels=(), *, masks: bool = False, scale=(1.0, 1.0), seed: int = 0):
    """``(image uint8 [3, h, w], DetDataSample)`` with ground truth ``boxes`` (xyxy) and ``labels``."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)
    s = DetDataSample(metainfo=dict(img_id=seed, img_shape=(h, w), ori_shape=(round(h / scale[1]), round(w / scale[0])),
                                    scale_factor=scale, pad_shape=(h, w)))
    gi = InstanceData()
    gi.bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    gi.labels = torch.tensor(labels, dtype=torch.long).reshape(-1)
    if masks:
        m = np.zeros((len(gi.bboxes), h, w), np.uint8)
        for k, (x1, y1, x2, y2) in enumerate(gi.bboxes.int().tolist()):
            m[k, y1:y2, x1:x2] = 1
        gi.masks = BitmapMasks(m, h, w)
    s.gt_instances = gi
    s.ignored_instances = InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
    return img, s


def batch(samples) -> dict:
    return dict(inputs=[i for i, _ in samples], data_samples=[s for _, s in samples])


def loss_of(model, data) -> dict:
    model.train()
    d = model.data_preprocessor(copy.deepcopy(data), True)
    return model.loss(d['inputs'], d['data_samples'])


def total(losses: dict) -> torch.Tensor:
    return sum(sum(v) if isinstance(v, list) else v for k, v in losses.items() if 'loss' in k)


def predict(model, data):
    model.eval()
    with torch.no_grad():
        d = model.data_preprocessor(copy.deepcopy(data), False)
        return model.predict(d['inputs'], d['data_samples'])


def load_config(name: str) -> Config:
    return Config.fromfile(os.path.join(CONFIG_DIR, name))
