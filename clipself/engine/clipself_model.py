"""The mmengine model of the ``CLIPSelf`` config type: :class:`clipself.distill.CLIPSelf` in a runner.

The distillation itself (student, frozen teacher, losses, export) is the plain module; this adapter adds what a
runner calls: ``forward(mode='loss' | 'tensor', **batch)`` on the dataset's ``pseudo_collate``d items, the data
preprocessor, and ``val_step`` / ``test_step`` (zero-shot region classification of the student). Its state dict
is the plain module's (``student.*``, ``teacher.*``): checkpoints load into either.
"""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel

from ..distill.model import CLIPSelf
from ..registry import MODELS


@MODELS.register_module(name='CLIPSelf')
class CLIPSelfModel(CLIPSelf, BaseModel):
    """``CLIPSelf`` (keyword arguments as there) as an mmengine ``BaseModel``.

    ``CLIPSelf.__init__`` comes first in the method order and its ``super().__init__()`` reaches
    ``BaseModel.__init__`` with its defaults (a ``BaseDataPreprocessor``, no ``init_cfg``); the two arguments
    below then replace them.

    Args:
        eval_cfg: keyword arguments of :class:`clipself.engine.region_eval.CLIPRegionClassifier` used by
            ``val_step`` / ``test_step`` on the student (zero-shot region classification).
        data_preprocessor / init_cfg: as mmengine's ``BaseModel``.
        **kwargs: :class:`clipself.distill.CLIPSelf`'s.
    """

    def __init__(self, *, eval_cfg: Optional[dict] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None, **kwargs):
        super().__init__(**kwargs)
        if data_preprocessor is not None:
            self.data_preprocessor = (data_preprocessor if isinstance(data_preprocessor, torch.nn.Module)
                                      else MODELS.build(data_preprocessor))
        self.init_cfg = init_cfg
        self.eval_cfg = dict(eval_cfg or {})
        self._evaluator = None

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
        losses['skipped_images'] = losses['num_regions'].new_tensor(float(sum(skipped or [])))
        return losses

    # -- evaluation (zero-shot region classification on the student) ----------------------------------
    def _region_classifier(self):
        if self._evaluator is None:
            from .region_eval import CLIPRegionClassifier
            evaluator = CLIPRegionClassifier(clip=self.student, **self.eval_cfg)
            object.__setattr__(self, '_evaluator', evaluator)  # not a submodule: no weights of its own
        return self._evaluator

    def val_step(self, data):
        return self._region_classifier().val_step(data)

    def test_step(self, data):
        return self._region_classifier().test_step(data)
