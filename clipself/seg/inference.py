"""Segment image files with a :class:`~clipself.seg.ZeroShotSegmentor` outside a dataset (demo, benchmark)."""
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

from .segmentor import ZeroShotSegmentor

# the mmseg data preprocessor with CLIP's normalisation (0-255 scale; mmcv loads BGR)
CLIP_PREPROCESSOR = dict(type='SegDataPreProcessor', mean=[122.771, 116.746, 104.094], std=[68.501, 66.632, 70.323],
                         bgr_to_rgb=True, pad_val=0, seg_pad_val=255)


def build_segmentor(*, model_name: str, pretrained: Optional[str], classes: Union[str, Sequence[str]],
                    last_block: str = 'maskclip', crop: int = 224, stride: int = 112, device: str = 'cpu',
                    **kwargs) -> ZeroShotSegmentor:
    """A :class:`ZeroShotSegmentor` from a few arguments (slide inference with ``crop`` px windows, ``stride``;
    ``crop=0``: whole image). ``kwargs`` go to the segmentor (``logit_scale``, ``bg_index``, ...)."""
    import clipself.seg  # noqa: F401  (registers the plug-ins)
    test_cfg = dict(mode='slide', crop_size=(crop, crop), stride=(stride, stride)) if crop else dict(mode='whole')
    cfg = dict(type='ZeroShotSegmentor', clip=dict(model_name=model_name, pretrained=pretrained), classes=classes,
               last_block=last_block, test_cfg=test_cfg, data_preprocessor=CLIP_PREPROCESSOR, **kwargs)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg)
    return model.to(device).eval()


def image_pipeline(short_side: int, *, from_array: bool = False) -> Compose:
    """mmseg's test transforms without annotations: load (a file, or ``results['img']`` BGR), resize to
    ``short_side`` (kept ratio), pack."""
    load = dict(type='LoadImageFromNDArray' if from_array else 'LoadImageFromFile')
    with DefaultScope.overwrite_default_scope('mmseg'):
        return Compose([load, dict(type='Resize', scale=(8192, short_side), keep_ratio=True),
                        dict(type='PackSegInputs')])


def predict_one(model: ZeroShotSegmentor, data: dict):
    """The ``SegDataSample`` of one packed sample (``{'inputs', 'data_samples'}`` from :func:`image_pipeline`)."""
    with torch.no_grad():
        return model.test_step(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]))[0]


def segment_files(model: ZeroShotSegmentor, paths: Sequence[str], *, short_side: int = 448) -> List:
    """``SegDataSample`` per image file: ``pred_sem_seg`` ``[1, H, W]`` (original size) and ``seg_logits`` (the
    class probabilities ``[C, H, W]``)."""
    pipeline = image_pipeline(short_side)
    return [predict_one(model, pipeline(dict(img_path=p))) for p in paths]


def segment_array(model: ZeroShotSegmentor, image_bgr: np.ndarray, *, short_side: int = 448):
    """One ``[H, W, 3]`` uint8 BGR image -> its ``SegDataSample`` (as :func:`segment_files`)."""
    return predict_one(model, image_pipeline(short_side, from_array=True)(dict(img=image_bgr)))
