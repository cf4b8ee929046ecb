"""F-ViT's RoI head: mmdet's StandardRoIHead whose predictions also pool the frozen CLIP's dense map."""
from typing import List, Optional, Tuple

import torch
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.utils import empty_instances
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi

from ..models.pooling import roi_features


@MODELS.register_module()
class FViTRoIHead(StandardRoIHead):
    """Training is mmdet's (box head + optional class-agnostic mask head). Prediction adds, per proposal, the
    CLIP region feature ``RoIAlign1x1(dense map, box)`` (:func:`clipself.models.roi_features`) for the box
    head's CLIP ensemble (:meth:`FViTBBoxHead.scores`)."""

    def _bbox_forward(self, x: Tuple[torch.Tensor], rois: torch.Tensor) -> dict:
        """mmdet's, plus the early shortcut of a bbox head that has one (pooling ``x.taps``, the backbone
        token maps :class:`clipself.det.early_shortcut.FeaturesWithTaps` carries)."""
        shortcut = getattr(self.bbox_head, 'early_shortcut', None)
        if shortcut is None:
            return super()._bbox_forward(x, rois)
        taps = getattr(x, 'taps', None)
        if taps is None:
            raise ValueError('the early shortcut needs the backbone token maps: FViT passes them with the features')
        bbox_feats = self.bbox_roi_extractor(x[:self.bbox_roi_extractor.num_inputs], rois)
        if self.with_shared_head:
            bbox_feats = self.shared_head(bbox_feats)
        cls_score, bbox_pred = self.bbox_head(bbox_feats, shortcut=shortcut(taps, rois))
        return dict(cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=bbox_feats)

    def predict(self, x: Tuple[torch.Tensor], rpn_results_list, batch_data_samples, rescale: bool = False,
                dense: Optional[torch.Tensor] = None, dense_stride: Optional[int] = None) -> list:
        """Args (besides mmdet's): dense ``[B, D, H/p, W/p]`` the CLIP dense map of the network input (or
        None: no ensemble); dense_stride: its stride p in input pixels."""
        batch_img_metas = [s.metainfo for s in batch_data_samples]
        bbox_rescale = rescale if not self.with_mask else False
        results_list = self.predict_bbox(x, batch_img_metas, rpn_results_list, rcnn_test_cfg=self.test_cfg,
                                         rescale=bbox_rescale, dense=dense, dense_stride=dense_stride)
        if self.with_mask:
            results_list = self.predict_mask(x, batch_img_metas, results_list, rescale=rescale)
        return results_list

    def predict_bbox(self, x: Tuple[torch.Tensor], batch_img_metas: List[dict], rpn_results_list,
                     rcnn_test_cfg, rescale: bool = False, dense: Optional[torch.Tensor] = None,
                     dense_stride: Optional[int] = None) -> list:
        """Proposals (xyxy, network-input pixels) -> per-image ``InstanceData`` (bboxes, scores, labels)."""
        proposals = [res.bboxes for res in rpn_results_list]
        rois = bbox2roi(proposals)  # shape: [K, 5]
        if rois.shape[0] == 0:
            return empty_instances(batch_img_metas, rois.device, task_type='bbox',
                                   box_type=self.bbox_head.predict_box_type, num_classes=self.bbox_head.num_classes,
                                   score_per_cls=rcnn_test_cfg is None)
        bbox_results = self._bbox_forward(x, rois)
        clip_feats = None
        if dense is not None and self.bbox_head.uses_clip:
            if dense_stride is None:
                raise ValueError('dense_stride (the CLIP patch size) is needed with the dense map')
            clip_feats = roi_features(dense, [p.detach() for p in proposals], patch_size=dense_stride)  # [K, D]
        scores = self.bbox_head.scores(bbox_results['cls_score'], clip_feats)  # shape: [K, C + 1]
        num = tuple(len(p) for p in proposals)
        bbox_preds = bbox_results['bbox_pred']
        bbox_preds = bbox_preds.split(num, 0) if bbox_preds is not None else (None,) * len(proposals)
        return self.bbox_head.predict_by_feat(rois=rois.split(num, 0), cls_scores=scores.split(num, 0),
                                              bbox_preds=bbox_preds, batch_img_metas=batch_img_metas,
                                              rcnn_test_cfg=rcnn_test_cfg, rescale=rescale)
