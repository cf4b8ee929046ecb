"""F-ViT's RoI box head: shared convs + fcs (mmdet's ConvFCBBoxHead), class-agnostic box regression, and an
open-vocabulary classifier (:class:`TextEmbeddingClassifier`) ensembled with CLIP at test time."""
from typing import List, Optional, Sequence

import torch
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from mmdet.models.layers import multiclass_nms
from mmdet.models.roi_heads.bbox_heads import ConvFCBBoxHead
from mmdet.models.utils import empty_instances
from mmdet.registry import MODELS
from mmdet.structures.bbox import get_box_tensor, scale_boxes

from .classifier import TextEmbeddingClassifier
from .early_shortcut import EarlyShortcut
from .ensemble import clip_region_probs, ensemble_scores
from .losses import OVCrossEntropyLoss
from .vocab import NovelSpec, novel_mask


@MODELS.register_module()
class FViTBBoxHead(ConvFCBBoxHead):
    """Args (besides mmdet's ``ConvFCBBoxHead`` ones: ``num_shared_convs=4, num_shared_fcs=2,
    fc_out_channels=<CLIP embedding size>, reg_class_agnostic=True`` ...):

        classifier: the :class:`TextEmbeddingClassifier` config (embeddings file, background, T_det);
            ``in_features``/``out_features`` are filled in.
        novel_classes: the held-out classes (see :func:`clipself.det.vocab.novel_names`): weight 0 in the
            training loss (logit -inf), CLIP weight ``beta`` at test time.
        ensemble: combine with the CLIP dense map at test time (needs the roi head to pass region features).
        vlm_temperature: ``T_vlm`` of ``p_clip = softmax(T_vlm * cos(region, text))``.
        alpha, beta: CLIP weight for base / novel classes (``p_det^(1-a) p_clip^a``).
        early_shortcut: ``dict(blocks=[...], in_channels=C, channels=64)``: ExMobileViT's early-feature
            shortcut (:class:`clipself.det.early_shortcut.EarlyShortcut`, zero-initialised) adds pooled token maps
            of those backbone blocks to the region embedding before the classifier; None: off.

    ``loss_cls`` must be an :class:`OVCrossEntropyLoss`; the head sets its class weights.
    At test time ``predict_by_feat`` receives scores (probabilities, see :meth:`scores`), not logits.
    """

    def __init__(self, *, classifier: dict, novel_classes: NovelSpec = None, ensemble: bool = True,
                 vlm_temperature: float = 75.0, alpha: float = 0.1, beta: float = 0.8,
                 early_shortcut: Optional[dict] = None, **kwargs):
        kwargs.setdefault('reg_class_agnostic', True)
        super().__init__(**kwargs)
        if not self.with_cls:
            raise ValueError('FViTBBoxHead needs with_cls=True')
        cfg = dict(classifier)
        cfg.setdefault('type', 'TextEmbeddingClassifier')
        cfg.update(in_features=self.cls_last_dim, out_features=self.num_classes + 1)
        self.fc_cls: TextEmbeddingClassifier = MODELS.build(cfg)  # replaces the linear classifier
        if not isinstance(self.loss_cls, OVCrossEntropyLoss):
            raise TypeError(f'FViTBBoxHead needs loss_cls=dict(type="OVCrossEntropyLoss"), got '
                            f'{type(self.loss_cls).__name__}')
        self.novel_classes = novel_classes
        self.ensemble = ensemble
        self.vlm_temperature = float(vlm_temperature)
        self.alpha, self.beta = float(alpha), float(beta)
        self._set_novel(novel_mask(novel_classes, self.fc_cls.class_names))
        self.early_shortcut = None
        if early_shortcut is not None:
            self.early_shortcut = EarlyShortcut(embed_dim=self.cls_last_dim, **early_shortcut)
            self._shortcut_feats = None
            self.fc_cls.register_forward_pre_hook(self._add_shortcut)

    def forward(self, x: torch.Tensor, shortcut: Optional[torch.Tensor] = None):
        """mmdet's ``ConvFCBBoxHead.forward`` on RoI features ``[K, C, 7, 7]``; ``shortcut [K, D]``
        (:class:`EarlyShortcut` output, needed when the head has one) is added to the region embedding the
        classifier scores."""
        if self.early_shortcut is None:
            return super().forward(x)
        if shortcut is None:
            raise ValueError('this FViTBBoxHead has an early_shortcut: pass its features (FViTRoIHead does)')
        self._shortcut_feats = shortcut
        try:
            return super().forward(x)
        finally:
            self._shortcut_feats = None

    def _add_shortcut(self, module, args):
        return (args[0] + self._shortcut_feats,) + tuple(args[1:])

    def _set_novel(self, mask: Sequence[bool]) -> None:
        self.register_buffer('novel', torch.tensor(list(mask) + [False], dtype=torch.bool), persistent=False)
        self.loss_cls.set_class_weight(list(mask))

    @property
    def class_names(self) -> List[str]:
        return self.fc_cls.class_names

    @property
    def uses_clip(self) -> bool:
        """True when predictions need the CLIP dense map."""
        return self.ensemble and (self.alpha > 0 or self.beta > 0)

    def set_vocabulary(self, class_names: Sequence[str], embeddings: torch.Tensor,
                       novel: Optional[Sequence[bool]] = None) -> None:
        """Detect another vocabulary: ``embeddings [N, D]`` one per name; ``novel`` ``[N]`` booleans (default:
        names outside the current base classes are novel)."""
        if novel is None:
            base = {n for n, nv in zip(self.class_names, self.novel.tolist()) if not nv}
            novel = [n not in base for n in class_names]
        self.fc_cls.set_vocabulary(class_names, embeddings)
        self.num_classes = len(class_names)
        self._set_novel(novel)

    def scores(self, cls_logits: torch.Tensor, clip_region_feats: Optional[torch.Tensor]) -> torch.Tensor:
        """Test-time class scores ``[N, C + 1]`` from the logits ``[N, C + 1]`` and (optionally) CLIP region
        features ``[N, D]`` of the same boxes."""
        if clip_region_feats is None or not self.uses_clip:
            return ensemble_scores(cls_logits, None, self.novel, alpha=self.alpha, beta=self.beta)
        p_clip = clip_region_probs(clip_region_feats, self.fc_cls.all_embeddings(), self.vlm_temperature)
        return ensemble_scores(cls_logits, p_clip, self.novel, alpha=self.alpha, beta=self.beta)

    def _predict_by_feat_single(self, roi: torch.Tensor, cls_score: torch.Tensor, bbox_pred: torch.Tensor,
                                img_meta: dict, rescale: bool = False,
                                rcnn_test_cfg: Optional[ConfigDict] = None) -> InstanceData:
        """As mmdet's, but ``cls_score`` holds scores (:meth:`scores`) rather than logits.

        Args:
            roi: ``[K, 5]`` (batch index, x1, y1, x2, y2) in network-input pixels.
            cls_score: ``[K, C + 1]`` scores; bbox_pred: ``[K, 4]`` class-agnostic deltas.
        Returns:
            ``InstanceData`` with ``bboxes [n, 4]`` xyxy (original-image pixels when ``rescale``), ``scores``,
            ``labels``.
        """
        results = InstanceData()
        if roi.shape[0] == 0:
            return empty_instances([img_meta], roi.device, task_type='bbox', instance_results=[results],
                                   box_type=self.predict_box_type, use_box_type=False,
                                   num_classes=self.num_classes, score_per_cls=rcnn_test_cfg is None)[0]
        img_shape = img_meta['img_shape']
        if bbox_pred is not None:
            if not self.reg_class_agnostic:
                raise ValueError('FViTBBoxHead regresses class-agnostic boxes: set reg_class_agnostic=True')
            bboxes = self.bbox_coder.decode(roi[:, 1:], bbox_pred.view(-1, self.bbox_coder.encode_size),
                                            max_shape=img_shape)
        else:
            bboxes = roi[:, 1:].clone()
            bboxes[:, [0, 2]] = bboxes[:, [0, 2]].clamp(min=0, max=img_shape[1])
            bboxes[:, [1, 3]] = bboxes[:, [1, 3]].clamp(min=0, max=img_shape[0])
        if rescale and bboxes.size(0) > 0:
            bboxes = scale_boxes(bboxes, [1 / s for s in img_meta['scale_factor']])
        bboxes = get_box_tensor(bboxes)  # shape: [K, 4]
        if rcnn_test_cfg is None:
            results.bboxes, results.scores = bboxes, cls_score
            return results
        det_bboxes, det_labels = multiclass_nms(bboxes, cls_score, rcnn_test_cfg.score_thr, rcnn_test_cfg.nms,
                                                rcnn_test_cfg.max_per_img, box_dim=4)
        results.bboxes = det_bboxes[:, :-1]
        results.scores = det_bboxes[:, -1]
        results.labels = det_labels
        return results
