"""F-ViT: a two-stage open-vocabulary detector on a frozen CLIP ViT (CLIPSelf, ICLR 2024;
``docs/detection.md``), as an mmdet 3 detector."""
import math
from typing import List, Sequence, Tuple

import torch
from mmengine.config import ConfigDict
from mmdet.models.detectors import TwoStageDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList

from .backbone import FrozenCLIPViT
from .bbox_head import FViTBBoxHead
from .early_shortcut import FeaturesWithTaps
from .pyramid import DEFAULT_SCALE_FACTORS, SimpleFeaturePyramid, pyramid_strides


@MODELS.register_module()
class FViT(TwoStageDetector):
    """``backbone`` (:class:`FrozenCLIPViT`) -> ``neck`` (a list: :class:`SimpleFeaturePyramid` then mmdet's
    ``FPN``) -> class-agnostic ``RPNHead`` -> :class:`FViTRoIHead` with :class:`FViTBBoxHead` (and a
    class-agnostic ``FCNMaskHead`` for LVIS).

    At build time the parts are checked against the CLIP (pyramid/FPN widths = tower width, anchor and RoI
    strides = the pyramid's: ``p/4 .. 4p`` by default, classifier width = CLIP embedding size, input padding a
    multiple of the coarsest pyramid stride: ``2p`` by default) and
    the classifier gets its text-side embeddings from the CLIP's text tower.
    Prediction runs the CLIP once: the token maps feed the pyramid and its last (attention-free) block gives
    the dense map pooled for the CLIP ensemble.
    """

    def __init__(self, *, backbone: dict, neck, rpn_head: dict, roi_head: dict, train_cfg: dict, test_cfg: dict,
                 data_preprocessor=None, init_cfg=None):
        # plain dicts work too (tests build from keyword arguments); mmdet reads attributes
        train_cfg = ConfigDict(train_cfg) if train_cfg is not None else None
        test_cfg = ConfigDict(test_cfg) if test_cfg is not None else None
        super().__init__(backbone=backbone, neck=neck, rpn_head=rpn_head, roi_head=roi_head, train_cfg=train_cfg,
                         test_cfg=test_cfg, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not isinstance(self.backbone, FrozenCLIPViT):
            raise TypeError(f'FViT needs a FrozenCLIPViT backbone, got {type(self.backbone).__name__}')
        if not isinstance(self.roi_head.bbox_head, FViTBBoxHead):
            raise TypeError(f'FViT needs an FViTBBoxHead, got {type(self.roi_head.bbox_head).__name__}')
        self._check_parts()
        self.roi_head.bbox_head.fc_cls.attach_clip(self.backbone.clip)

    # -- build-time consistency ---------------------------------------------------------------------------
    def _check_parts(self) -> None:
        p, width, dim = self.backbone.patch_size, self.backbone.width, self.backbone.embed_dim
        name = self.backbone.model_name
        necks = list(self.neck) if isinstance(self.neck, torch.nn.Sequential) else [self.neck]
        factors = DEFAULT_SCALE_FACTORS
        for n in necks:
            if isinstance(n, SimpleFeaturePyramid):
                if n.in_channels != width:
                    raise ValueError(f'SimpleFeaturePyramid in_channels={n.in_channels}, but {name} has width {width}')
                factors = n.scale_factors
        fpn = [n for n in necks if hasattr(n, 'in_channels') and isinstance(n.in_channels, (list, tuple))]
        if fpn and any(c != width for c in fpn[0].in_channels):
            raise ValueError(f'FPN in_channels={list(fpn[0].in_channels)}, but {name} has width {width}')
        want = pyramid_strides(p, factors)
        got = [s[0] for s in self.rpn_head.prior_generator.strides]
        if not _close(got, want[:len(got)]):
            raise ValueError(f'rpn_head anchor strides {got} do not match {name} (patch {p}): use {want}')
        for what in ('bbox_roi_extractor', 'mask_roi_extractor'):
            ext = getattr(self.roi_head, what, None)
            if ext is not None:
                strides = list(ext.featmap_strides)
                if not _close(strides, want[:len(strides)]):
                    raise ValueError(f'roi_head.{what} featmap_strides {strides} do not match {name} '
                                     f'(patch {p}): use {want[:4]}')
        head = self.roi_head.bbox_head
        if getattr(head, 'early_shortcut', None) is not None:
            head.early_shortcut.check_backbone(out_indices=self.backbone.out_indices, width=width, patch_size=p,
                                               num_blocks=self.backbone.clip.tower.num_blocks)
        if head.cls_last_dim != dim:
            raise ValueError(f'bbox head classifies {head.cls_last_dim}-d region embeddings but {name} embeds '
                             f'in {dim}-d: set fc_out_channels={dim}')
        div = getattr(self.data_preprocessor, 'pad_size_divisor', 1)
        coarsest = round(p / factors[-1])
        if div % coarsest:
            raise ValueError(f'data_preprocessor.pad_size_divisor={div} must be a multiple of the coarsest pyramid '
                             f'stride, {coarsest} (whole token grids, exact pooling)')
        for key in ('fixed_size', 'test_fixed_size'):
            size = getattr(self.data_preprocessor, key, None)
            if size is not None and any(v % (2 * p) for v in size):
                raise ValueError(f'data_preprocessor.{key}={tuple(size)} must be a multiple of 2 x patch = {2 * p}')

    # -- features -----------------------------------------------------------------------------------------
    @property
    def class_names(self) -> List[str]:
        """The vocabulary: label ``i`` of a prediction is ``class_names[i]``."""
        return self.roi_head.bbox_head.class_names

    def _features(self, batch_inputs: torch.Tensor, with_dense: bool):
        taps, dense = self.backbone(batch_inputs, with_dense=with_dense)
        x = self.neck(taps) if self.with_neck else tuple(taps)
        # mmcv's RoIAlign reads its input as contiguous NCHW whatever its strides: never hand it another layout
        # (the backbone token maps ride along for an early-shortcut bbox head)
        taps = dict(zip(self.backbone.out_indices, taps))
        return FeaturesWithTaps((t.contiguous() for t in x), taps), dense

    def extract_feat(self, batch_inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """``[B, 3, H, W]`` -> FPN maps ``[B, 256, H/s, W/s]`` for ``s = p/4 .. 4p``."""
        return self._features(batch_inputs, with_dense=False)[0]

    def predict(self, batch_inputs: torch.Tensor, batch_data_samples: SampleList, rescale: bool = True) -> SampleList:
        """Boxes (xyxy, original-image pixels with ``rescale``), scores and labels (indices into
        :attr:`class_names`) in each sample's ``pred_instances`` (plus ``masks`` with a mask head)."""
        bbox_head = self.roi_head.bbox_head
        x, dense = self._features(batch_inputs, with_dense=bbox_head.uses_clip)
        if batch_data_samples[0].get('proposals', None) is None:
            rpn_results_list = self.rpn_head.predict(x, batch_data_samples, rescale=False)
        else:
            rpn_results_list = [s.proposals for s in batch_data_samples]
        results_list = self.roi_head.predict(x, rpn_results_list, batch_data_samples, rescale=rescale,
                                             dense=dense, dense_stride=self.backbone.patch_size)
        return self.add_pred_to_datasample(batch_data_samples, results_list)

    def set_vocabulary(self, class_names: Sequence[str], embeddings=None, novel=None) -> None:
        """Detect ``class_names`` (canonical or free-form): ``embeddings [N, D]``, or None to embed the names
        with this detector's CLIP text tower (ViLD prompt ensemble). See :meth:`FViTBBoxHead.set_vocabulary`."""
        if embeddings is None:
            from ..models.text import build_text_embeddings
            embeddings = build_text_embeddings(self.backbone.clip, list(class_names))
        self.roi_head.bbox_head.set_vocabulary(class_names, embeddings, novel)
        if self.roi_head.with_mask and not getattr(self.roi_head.mask_head, 'class_agnostic', False):
            raise ValueError('only a class-agnostic mask head works with a new vocabulary')
        if self.roi_head.with_mask:
            self.roi_head.mask_head.num_classes = len(class_names)


def _close(a, b) -> bool:
    return len(a) == len(b) and all(math.isclose(float(x), float(y)) for x, y in zip(a, b))
