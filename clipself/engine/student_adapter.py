"""What the mmengine models of the distillation configs (``CLIPSelf``, ``RegionCLIP``) share: the runner's data
preprocessor and ``init_cfg``, and ``val_step`` / ``test_step`` as zero-shot region classification of the student.
"""
from typing import Optional

import torch

from ..registry import MODELS


class StudentAdapter:
    """Mixin placed before a :class:`~clipself.distill.student.StudentTeacher` subclass and mmengine's
    ``BaseModel``: ``class M(StudentAdapter, CLIPSelf, BaseModel)``.

    The plain module's ``__init__`` comes next in the method order and its ``super().__init__()`` reaches
    ``BaseModel.__init__`` with its defaults (a ``BaseDataPreprocessor``, no ``init_cfg``); the arguments below
    then replace them.

    Args:
        eval_cfg: keyword arguments of :class:`clipself.engine.region_eval.CLIPRegionClassifier` used by
            ``val_step`` / ``test_step`` on the student (zero-shot region classification).
        data_preprocessor / init_cfg: as mmengine's ``BaseModel``.
        **kwargs: the plain module's.
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

    def skipped_images(self, skipped: Optional[list], device: torch.device) -> torch.Tensor:
        """How many unreadable images the dataset replaced in this batch (logged as ``skipped_images``)."""
        return torch.tensor(float(sum(skipped or [])), device=device)

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
