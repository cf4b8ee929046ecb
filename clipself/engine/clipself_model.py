"""The mmengine model of the ``CLIPSelf`` config type: :class:`clipself.distill.CLIPSelf` in a runner.

The distillation itself (student, frozen teacher, losses, export) is the plain module; this adapter adds what a
runner calls: ``forward(mode='loss' | 'tensor', **batch)`` on the dataset's ``pseudo_collate``d items, the data
preprocessor, and ``val_step`` / ``test_step`` (zero-shot region classification of the student,
:class:`~clipself.engine.student_adapter.StudentAdapter`). Its state dict is the plain module's (``student.*``,
``teacher.*``): checkpoints load into either.
"""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel

from ..distill.model import CLIPSelf
from ..registry import MODELS
from .student_adapter import StudentAdapter


@MODELS.register_module(name='CLIPSelf')
class CLIPSelfModel(StudentAdapter, CLIPSelf, BaseModel):
    """``CLIPSelf`` (keyword arguments as there) as an mmengine ``BaseModel``; ``eval_cfg``, ``data_preprocessor``
    and ``init_cfg`` as :class:`~clipself.engine.student_adapter.StudentAdapter`."""

    def forward(self, image: List[torch.Tensor], boxes: List[torch.Tensor], crops: Optional[List[torch.Tensor]] = None,
                whole: Optional[List[torch.Tensor]] = None, skipped: Optional[List[int]] = None,
                image_id: Optional[list] = None, box_keys: Optional[list] = None, mode: str = 'loss',
                **unused) -> Union[Dict[str, torch.Tensor], torch.Tensor]:
        """Args (lists over the batch, as ``pseudo_collate`` gives ``CLIPSelfDataset`` items):
            image: ``[3, S, S]`` uint8 student inputs. boxes: ``[K_b, 4]`` xyxy in student pixels.
            crops: ``[K_b, 3, T, T]`` uint8 teacher crops of the same regions. whole: ``[3, T, T]`` uint8.
            skipped: per item, unreadable images the dataset replaced (logged as ``skipped_images``).
            image_id: the dataset's image ids (keys of ``cache_teacher``).
            box_keys: the boxes as host ``[K_b, 4]`` arrays (cache keys without a device sync).
            mode: ``'loss'`` -> dict of losses and logged values; ``'tensor'`` -> the student's RoI features.
        """
        if mode == 'tensor':
            return self.region_features(image, boxes)
        if mode != 'loss':
            raise ValueError(f"CLIPSelf.forward: mode must be 'loss' or 'tensor', got {mode!r}")
        losses = self.loss(image, boxes, crops, whole=whole, image_ids=image_id, box_keys=box_keys)
        losses['skipped_images'] = self.skipped_images(skipped, losses['num_regions'].device)
        return losses
