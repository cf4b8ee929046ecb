"""Cross-entropy over a vocabulary with held-out classes: classes of weight 0 (novel / rare) get logit -inf, so
they take no part in the softmax and receive no gradient."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from mmdet.registry import MODELS


@MODELS.register_module()
class OVCrossEntropyLoss(nn.Module):
    """Softmax cross-entropy of F-ViT's RoI classifier.

    Args:
        bg_weight: weight of background samples (0.6 OV-COCO, 0.9 OV-LVIS); the last class is background.
        loss_weight: overall scale.
        reduction: ``'mean'`` (over ``avg_factor`` when given), ``'sum'`` or ``'none'``.

    The per-class weights ``[C + 1]`` (1 for base classes, 0 for held-out classes, ``bg_weight`` last) are set
    by the bbox head (:meth:`set_class_weight`) from its vocabulary. A training target of a class of weight 0
    is an error: the annotations contain a class that should have been held out.
    """

    def __init__(self, *, bg_weight: float = 1.0, loss_weight: float = 1.0, reduction: str = 'mean'):
        super().__init__()
        self.bg_weight = float(bg_weight)
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.register_buffer('class_weight', None, persistent=False)

    def set_class_weight(self, excluded: Sequence[bool]) -> None:
        """``excluded``: ``[C]`` booleans, True for held-out (novel/rare) classes."""
        w = [0.0 if e else 1.0 for e in excluded] + [self.bg_weight]
        self.class_weight = torch.tensor(w)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None, reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """Args:
            cls_score: ``[N, C + 1]`` logits; label: ``[N]`` in ``0..C`` (C = background);
            weight: ``[N]`` per-sample weights (mmdet's label weights).
        """
        if self.class_weight is None:
            raise RuntimeError('OVCrossEntropyLoss.set_class_weight() was never called (the bbox head does it)')
        cw = self.class_weight.to(device=cls_score.device, dtype=cls_score.dtype)
        if cw.numel() != cls_score.shape[-1]:
            raise ValueError(f'{cw.numel()} class weights for {cls_score.shape[-1]} logits')
        excluded = cw == 0
        if label.numel() and excluded[label].any():
            bad = sorted(set(label[excluded[label]].tolist()))
            raise ValueError(f'training targets of held-out classes {bad[:10]} (weight 0): the training annotations '
                             'must contain base classes only (prepare them with tools/prepare_ov_coco.py / '
                             'prepare_ov_lvis.py)')
        logits = cls_score.masked_fill(excluded, float('-inf'))
        loss = F.cross_entropy(logits, label, weight=cw, reduction='none')
        reduction = reduction_override or self.reduction
        if weight is not None:
            weight = weight.float()
        loss = weight_reduce_loss(loss, weight=weight, reduction=reduction, avg_factor=avg_factor)
        return self.loss_weight * loss
