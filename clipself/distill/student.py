"""``StudentTeacher``: the trainable student CLIP and a frozen copy of the initial CLIP, shared by the
distillation models (:class:`clipself.distill.CLIPSelf`, :class:`clipself.distill.RegionCLIP`).

It owns what every such model needs: building the CLIP, which parameters train, keeping the teacher frozen and
in eval mode, the student's region features, and the exported weight-space ensemble
``alpha * student + (1 - alpha) * teacher``. Subclasses add their losses.
"""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch

from ..models import build_clip
from ..models.dense_clip import DenseCLIP
from ..models.dense_mode import unused_last_block_parameters

Images = Union[torch.Tensor, Sequence[torch.Tensor]]


def stack_images(x: Images) -> torch.Tensor:
    """``[B, ...]`` from a batch tensor or a sequence of B per-image tensors."""
    return x if isinstance(x, torch.Tensor) else torch.stack(list(x))


class StudentTeacher(torch.nn.Module):
    """Student = the CLIP being trained; teacher = a frozen copy of the initial CLIP (always eval, no grad).

    Args:
        clip: ``build_clip`` arguments, e.g. ``dict(model_name='EVA02-B-16', pretrained='checkpoints/...pt')``.
        train_blocks: ``'all'`` or the indices of the image-tower blocks that train; everything else
            (patch embedding, CLS, position embedding, final norm, projection, text tower, logit scale) stays
            frozen.
        alpha: weight of the student in the exported ensemble ``alpha * student + (1 - alpha) * teacher``.
        grad_checkpointing: recompute the student's blocks in backward (less memory, ~30% slower).
        dense_only: the losses use only the student's dense path, which skips parts of the last block (the
            attention-free block its query/key projections, DeCLIP's decoupled one its MLP): they then stay frozen
            (they would get no gradient, and DDP would wait for one).
        compile: ``torch.compile`` the student's and the teacher's encoders (True or ``torch.compile`` keyword
            arguments; :meth:`clipself.models.dense_clip.DenseCLIP.compile_encoders`).
    """

    def __init__(self, *, clip: dict, train_blocks: Union[str, Sequence[int]] = 'all', alpha: float = 0.7,
                 grad_checkpointing: bool = False, dense_only: bool = True, compile: Union[bool, dict] = False):
        super().__init__()
        self.clip_cfg = dict(clip)
        self.student: DenseCLIP = build_clip(**clip)
        self.teacher: DenseCLIP = copy.deepcopy(self.student)
        self.teacher.set_dense_mode(None)  # only its image path and blocks are used
        self.teacher.set_window_attention(0)  # the teacher is the original CLIP: global attention
        self.teacher.reset_variants()  # ... and no tower options (ReViT alpha 1, zero conv branches)
        self.teacher.requires_grad_(False).eval()
        self.student.requires_grad_(False)
        blocks = self.student.tower.blocks
        idx = range(len(blocks)) if train_blocks == 'all' else list(train_blocks)
        bad = [i for i in idx if not -len(blocks) <= i < len(blocks)]
        if bad:
            raise ValueError(f'train_blocks {bad} outside the {len(blocks)} blocks of {clip.get("model_name")}')
        for i in idx:
            blocks[i].requires_grad_(True)
        for p in self.student.variant_parameters():  # tower options (ReViT alpha, conv branches) always train
            p.requires_grad_(True)
        if dense_only:
            for p in unused_last_block_parameters(self.student.tower, self.student.dense_mode):
                p.requires_grad_(False)
        self.student.set_grad_checkpointing(grad_checkpointing)
        if compile:
            options = {} if compile is True else dict(compile)
            self.student.compile_encoders(**options)
            self.teacher.compile_encoders(**options)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'alpha must be in [0, 1], got {alpha}')
        self.alpha = alpha

    @property
    def model_name(self) -> str:
        return self.student.model_name

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, images: Images, boxes: List[torch.Tensor]) -> torch.Tensor:
        """:meth:`region_features`."""
        return self.region_features(images, boxes)

    def region_features(self, images: Images, boxes: List[torch.Tensor]) -> torch.Tensor:
        """The student's RoI features: RoIAlign (1x1) of its L2-normalised dense map, L2-normalised again.

        Args:
            images: ``[B, 3, S, S]`` (or B tensors ``[3, S, S]``) uint8 0-255 or float 0-1 pixels.
            boxes: B tensors ``[K_b, 4]`` xyxy in input pixels.
        Returns:
            ``[sum K_b, D]`` L2-normalised, in box order.
        """
        return self.student.roi_features(self.dense_features(images), boxes)  # shape: [N, D], unit norm

    def dense_features(self, images: Images) -> torch.Tensor:
        """The student's L2-normalised dense map ``[B, D, S/p, S/p]`` of ``[B, 3, S, S]`` (or B ``[3, S, S]``)
        uint8 0-255 or float 0-1 pixels."""
        x = self.student.normalize_pixels(stack_images(images))  # shape: [B, 3, S, S]
        return self.student.encode_dense(x)

    def export_metadata(self) -> dict:
        """What an export of this model records besides alpha: the dense mode of a decoupled distillation."""
        from .export import dense_mode_metadata
        return dense_mode_metadata(self.student.dense_mode)

    def ensemble_state_dict(self, alpha: Optional[float] = None) -> Dict[str, torch.Tensor]:
        """open_clip state dict of ``alpha * student + (1 - alpha) * teacher`` (alpha default: the config's)."""
        from .export import ensemble_state_dict
        return ensemble_state_dict(self.student.clip.state_dict(), self.teacher.clip.state_dict(),
                                   self.alpha if alpha is None else alpha)
