"""The mmengine model of the ``RegionCLIP`` config type: :class:`clipself.distill.RegionCLIP` (the RegionCLIP-style
baseline) in a runner, beside ``CLIPSelf``: same runner, hooks (export of ``alpha * student + (1 - alpha) *
teacher``), checkpoints (``student.*``, ``teacher.*``) and validation (zero-shot region classification).
"""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel

from ..distill.region_clip import RegionCLIP
from ..registry import MODELS
from .student_adapter import StudentAdapter


@MODELS.register_module(name='RegionCLIP')
class RegionCLIPModel(StudentAdapter, RegionCLIP, BaseModel):
    """``RegionCLIP`` (keyword arguments as there) as an mmengine ``BaseModel``; ``eval_cfg``,
    ``data_preprocessor`` and ``init_cfg`` as :class:`~clipself.engine.student_adapter.StudentAdapter`."""

    def forward(self, image: List[torch.Tensor], boxes: List[torch.Tensor],
                labels: Optional[List[torch.Tensor]] = None, skipped: Optional[List[int]] = None,
                mode: str = 'loss', **unused) -> Union[Dict[str, torch.Tensor], torch.Tensor]:
        """Args (lists over the batch, as ``pseudo_collate`` gives ``RegionNounDataset`` items):
            image: ``[3, S, S]`` uint8 student inputs. boxes: ``[K_b, 4]`` xyxy in student pixels.
            labels: ``[K_b]`` int64 noun labels. skipped: per item, unreadable images the dataset replaced.
            mode: ``'loss'`` -> dict of losses and logged values; ``'tensor'`` -> the student's RoI features.
        """
        if mode == 'tensor':
            return self.region_features(image, boxes)
        if mode != 'loss':
            raise ValueError(f"RegionCLIP.forward: mode must be 'loss' or 'tensor', got {mode!r}")
        if labels is None:
            raise ValueError('RegionCLIP.forward: the batch has no "labels" (a RegionNounDataset gives them)')
        losses = self.loss(image, boxes, labels)
        losses['skipped_images'] = self.skipped_images(skipped, losses['num_regions'].device)
        return losses
