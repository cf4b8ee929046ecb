"""``CLIPSelf``: a trainable student CLIP and its frozen teacher, with the self-distillation losses.

A plain ``torch.nn.Module`` usable from any training loop::

    model = CLIPSelf(clip=dict(model_name='EVA02-B-16', pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'))
    losses = model.loss(images, boxes, crops)   # {'loss_cosine': ..., 'num_regions': ...}
    sum(v for k, v in losses.items() if k.startswith('loss_')).backward()

The mmengine model of the ``CLIPSelf`` config type (data flow of the runner, region-classification
validation) is :class:`clipself.engine.clipself_model.CLIPSelfModel`, a subclass of this one.
"""
import itertools
from typing import Dict, List, Optional, Sequence, Union

import torch

from ..models.dense_mode import encode_dense_with_context
from ..models.frozen_precision import match_autocast
from .student import Images, StudentTeacher, stack_images


class CLIPSelf(StudentTeacher):
    """Student = the CLIP being trained; teacher = a frozen copy of the initial CLIP (always eval, no grad).

    ``loss_cosine = 1 - mean_i cos(RoIAlign(student.encode_dense(image), box_i), teacher.encode_image(crop_i))``.
    Optionally ``loss_image`` (off by default) keeps the student's image-level path close to the teacher's:
    ``1 - mean cos(student.encode_image(x), teacher.encode_image(x))`` over the same crops and the whole image.
    The student encodes each of those inputs with gradients, so with 20 crops per image the term costs more than
    the dense path itself; ``loss_image_crops`` caps how many of each image's crops it uses.

    Args:
        clip: ``build_clip`` arguments, e.g. ``dict(model_name='EVA02-B-16', pretrained='checkpoints/...pt')``.
        train_blocks: ``'all'`` or the indices of the image-tower blocks that train; everything else
            (patch embedding, CLS, position embedding, final norm, projection, text tower) stays frozen.
        loss_cosine_weight / loss_image_weight: weights of the two terms.
        loss_image_crops: at most this many of each image's crops (a random subset, drawn from torch's global
            generator) enter ``loss_image`` besides the whole image; ``None``: all of them.
        alpha: weight of the student in the exported ensemble ``alpha * student + (1 - alpha) * teacher``.
        grad_checkpointing: recompute the student's blocks in backward (less memory, ~30% slower).
        context_teacher: DeCLIP's context distillation (:mod:`clipself.distill.context`; off by default):
            ``dict(type='self', block=6)`` (the frozen CLIP's affinity after that block) or ``dict(type='dinov2',
            arch='vit_base_patch14_reg4_dinov2', weights='checkpoints/...')``. Needs a decoupled ``clip.dense_mode``
            (``'qq'``, ``'csa'``); adds ``loss_context``, weighted by ``loss_context_weight`` (DeCLIP: 0.1).
        cache_teacher: keep the teacher's embeddings of the crops (keyed by image id and box) across
            iterations: the teacher is frozen and the dataset's crop of a box is fixed, so a box seen again (the
            proposals variant samples the same proposals every epoch) skips the teacher's forward. Costs
            ``D`` floats of host memory per distinct box (COCO, 20 boxes x 118k images, D 512: ~5 GB); off by
            default. Used when :meth:`loss` is given ``image_ids``.
        teacher_in_amp_dtype: under autocast (AMP) hold the frozen teacher in the autocast dtype (bf16/fp16)
            instead of letting every call cast its fp32 weights; its state dict stays fp32
            (:mod:`clipself.models.frozen_precision`). Without autocast it runs in fp32 either way.
        compile: ``torch.compile`` the student's and the teacher's encoders (True, or a dict of ``torch.compile``
            keyword arguments; :meth:`clipself.models.DenseCLIP.compile_encoders`).
    """

    def __init__(self, *, clip: dict, train_blocks: Union[str, Sequence[int]] = 'all',
                 loss_cosine_weight: float = 1.0, loss_image_weight: float = 0.0,
                 loss_image_crops: Optional[int] = None, alpha: float = 0.7, grad_checkpointing: bool = False,
                 cache_teacher: bool = False, teacher_in_amp_dtype: bool = True,
                 compile: Union[bool, dict] = False, context_teacher: Optional[dict] = None,
                 loss_context_weight: float = 0.1):
        # without loss_image only the dense path runs: the parts of the last block it skips stay frozen
        super().__init__(clip=clip, train_blocks=train_blocks, alpha=alpha, grad_checkpointing=grad_checkpointing,
                         dense_only=loss_image_weight == 0, compile=compile)
        self.loss_cosine_weight, self.loss_image_weight = loss_cosine_weight, loss_image_weight
        if loss_image_crops is not None and loss_image_crops < 0:
            raise ValueError(f'loss_image_crops must be None or >= 0, got {loss_image_crops}')
        self.loss_image_crops = loss_image_crops
        self.cache_teacher = cache_teacher
        self.teacher_in_amp_dtype = teacher_in_amp_dtype
        self._teacher_cache: Dict[tuple, torch.Tensor] = {}  # not state: rebuilt from the frozen teacher
        self.loss_context_weight = loss_context_weight
        self.context_teacher = None
        if context_teacher is not None:
            from .context import build_context_teacher
            if not self.student.dense_mode.decoupled:
                raise ValueError('context_teacher needs a decoupled last block: set clip.dense_mode to \'qq\' or '
                                 f'\'csa\' (it is {self.student.dense_mode})')
            # not a submodule: its weights (a DINOv2, or none for the CLIP's own affinity) stay out of checkpoints
            object.__setattr__(self, 'context_teacher', build_context_teacher(context_teacher, self.teacher))

    # -- the losses -------------------------------------------------------------------------------------
    def loss(self, images: Images, boxes: List[torch.Tensor], crops: Images, *, whole: Optional[Images] = None,
             image_ids: Optional[Sequence] = None, box_keys: Optional[Sequence] = None) -> Dict[str, torch.Tensor]:
        """The distillation losses of a batch.

        Args:
            images: ``[B, 3, S, S]`` (or B tensors ``[3, S, S]``) student inputs, uint8 or float 0-1.
            boxes: B tensors ``[K_b, 4]`` xyxy in student pixels.
            crops: ``[N, 3, T, T]`` (or B tensors ``[K_b, 3, T, T]``) the teacher's crops of the same regions, in
                box order (``N = sum K_b``).
            whole: ``[B, 3, T, T]`` (or B tensors) the whole images at the teacher's size, for ``loss_image``.
            image_ids: one hashable id per image (the keys of ``cache_teacher``).
            box_keys: per image, the boxes as host data (numpy ``[K_b, 4]`` or lists) for the cache keys; default
                ``boxes`` read back from the device (a host sync per step on GPU).
        Returns:
            ``loss_cosine`` (and ``loss_image`` when its weight is > 0), weighted; ``num_regions`` (logged).
        """
        if self.context_teacher is None:
            rois = self.region_features(images, boxes)  # shape: [N, D], unit norm
        else:
            rois, loss_context = self._dense_and_context(stack_images(images), boxes)
        crops = crops if isinstance(crops, torch.Tensor) else torch.cat(list(crops))
        crops_x = self.student.normalize_pixels(crops)  # shape: [N, 3, T, T]
        keys = None
        if self.cache_teacher and image_ids is not None:
            image_ids = [i.item() if torch.is_tensor(i) else i for i in image_ids]
            host = box_keys if box_keys is not None else boxes
            keys = [(i, *box) for i, b in zip(image_ids, host) for box in b.tolist()]
        target = self._teacher_embeddings(crops_x, keys)  # shape: [N, D], unit norm
        cos = (rois * target).sum(-1)
        losses = {'loss_cosine': self.loss_cosine_weight * (1 - cos.mean())}
        if self.context_teacher is not None:
            losses['loss_context'] = self.loss_context_weight * loss_context
        if self.loss_image_weight > 0:
            losses['loss_image'] = self.loss_image_weight * self._image_term(
                crops_x, target, [len(b) for b in boxes], whole,
                None if keys is None else [(i, 'whole') for i in image_ids])
        losses['num_regions'] = cos.new_tensor(float(len(cos)))
        return losses

    def _dense_and_context(self, images: torch.Tensor, boxes: List[torch.Tensor]):
        """The student's RoI features ``[N, D]`` and the (unweighted) context loss, from one forward of the student."""
        from .context import context_loss, student_affinity
        dense, context = encode_dense_with_context(self.student, self.student.normalize_pixels(images))
        teacher = self.context_teacher
        if isinstance(teacher, torch.nn.Module) and any(p.device != images.device for p in teacher.parameters()):
            teacher.to(images.device)  # not a submodule, so the runner's .to() does not reach it
        target = teacher(images, tuple(dense.shape[-2:]), self.student.patch_size)  # shape: [B, h*w, h*w]
        return self.student.roi_features(dense, boxes), context_loss(student_affinity(context), target)

    @torch.no_grad()
    def _teacher_embeddings(self, x: torch.Tensor, keys: Optional[list] = None) -> torch.Tensor:
        """``teacher.encode_image(x)`` ``[N, D]`` for normalised crops ``x [N, 3, T, T]``; with ``keys`` (one per
        crop) only the crops missing from the cache are encoded."""
        if keys is None:
            return self._run_teacher(x)
        cache = self._teacher_cache
        missing = [k for k, key in enumerate(keys) if key not in cache]
        if missing:
            for k, e in zip(missing, self._run_teacher(x[missing]).cpu()):
                cache[keys[k]] = e
        return torch.stack([cache[key] for key in keys]).to(x.device)

    def _run_teacher(self, x: torch.Tensor) -> torch.Tensor:
        """``teacher.encode_image`` ``[N, D]`` in fp32; under autocast with the teacher held in its dtype."""
        dtype = match_autocast(self.teacher.clip, x.device.type) if self.teacher_in_amp_dtype else x.dtype
        return self.teacher.encode_image(x.to(dtype)).float()

    def _image_term(self, crops_x: torch.Tensor, target: torch.Tensor, per_image: List[int],
                    whole: Optional[Images], whole_keys: Optional[list] = None) -> torch.Tensor:
        """``1 - mean cos(student.encode_image(x), teacher.encode_image(x))`` over the crops ``crops_x``
        ``[N, 3, T, T]`` (normalised; ``target [N, D]`` their teacher embeddings, ``per_image`` their count per
        image), at most ``loss_image_crops`` of each image's, plus the whole images ``[B, 3, T, T]``."""
        if self.loss_image_crops is not None:
            starts = itertools.accumulate([0] + per_image[:-1])
            keep = torch.cat([s + torch.randperm(n)[:self.loss_image_crops] for s, n in zip(starts, per_image)])
            crops_x, target = crops_x[keep], target[keep]
        if whole is not None:
            whole_x = self.student.normalize_pixels(stack_images(whole))
            target = torch.cat([target, self._teacher_embeddings(whole_x, whole_keys)])
            crops_x = torch.cat([crops_x, whole_x])
        if not len(crops_x):
            raise ValueError('loss_image has no inputs: loss_image_crops is 0 and the batch has no whole images')
        return 1 - (self.student.encode_image(crops_x) * target).sum(-1).mean()

