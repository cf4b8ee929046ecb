"""``CLIPSelf``: a trainable student CLIP and its frozen teacher, with the self-distillation losses."""
import copy
import itertools
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from ..data.transforms import normalize
from ..models import build_clip
from ..models.dense_clip import DenseCLIP


class CLIPSelf(BaseModel):
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
        cache_teacher: keep the teacher's embeddings of the crops (keyed by ``image_id`` and box) across
            iterations: the teacher is frozen and the dataset's crop of a box is fixed, so a box seen again (the
            proposals variant samples the same proposals every epoch) skips the teacher's forward. Costs
            ``D`` floats of host memory per distinct box (COCO, 20 boxes x 118k images, D 512: ~5 GB); off by
            default.
        eval_cfg: keyword arguments of ``CLIPRegionClassifier`` (``clipself.engine.region_eval``) used by
            ``val_step`` / ``test_step`` on the student (zero-shot region classification).
    """

    def __init__(self, *, clip: dict, train_blocks: Union[str, Sequence[int]] = 'all',
                 loss_cosine_weight: float = 1.0, loss_image_weight: float = 0.0,
                 loss_image_crops: Optional[int] = None, alpha: float = 0.7, grad_checkpointing: bool = False,
                 cache_teacher: bool = False, eval_cfg: Optional[dict] = None, data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.clip_cfg = dict(clip)
        self.student: DenseCLIP = build_clip(**clip)
        self.teacher: DenseCLIP = copy.deepcopy(self.student)
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
        if loss_image_weight == 0:
            # the dense path skips the last block's query/key projections: they would get no gradient (and
            # DDP would wait for one), so they stay frozen unless loss_image uses the attending last block
            attn = blocks[-1].attn
            for name in ('q_proj', 'k_proj', 'q_norm', 'k_norm', 'q_bias'):
                part = getattr(attn, name, None)
                if isinstance(part, torch.nn.Parameter):
                    part.requires_grad_(False)
                elif isinstance(part, torch.nn.Module):
                    part.requires_grad_(False)
        self.student.set_grad_checkpointing(grad_checkpointing)
        self.loss_cosine_weight, self.loss_image_weight = loss_cosine_weight, loss_image_weight
        if loss_image_crops is not None and loss_image_crops < 0:
            raise ValueError(f'loss_image_crops must be None or >= 0, got {loss_image_crops}')
        self.loss_image_crops = loss_image_crops
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'alpha must be in [0, 1], got {alpha}')
        self.alpha = alpha
        self.cache_teacher = cache_teacher
        self._teacher_cache: Dict[tuple, torch.Tensor] = {}  # not state: rebuilt from the frozen teacher
        self.eval_cfg = dict(eval_cfg or {})
        self._evaluator = None

    @property
    def model_name(self) -> str:
        return self.student.model_name

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        return self

    # -- training -------------------------------------------------------------------------------------
    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        return normalize(x, self.student.image_mean, self.student.image_std)

    def forward(self, image: List[torch.Tensor], boxes: List[torch.Tensor], crops: List[torch.Tensor],
                whole: Optional[List[torch.Tensor]] = None, skipped: Optional[List[int]] = None,
                image_id: Optional[list] = None, mode: str = 'loss',
                **unused) -> Union[Dict[str, torch.Tensor], torch.Tensor]:
        """Args (lists over the batch, as ``pseudo_collate`` gives them):
            image: ``[3, S, S]`` uint8 student inputs. boxes: ``[K_b, 4]`` xyxy in student pixels.
            crops: ``[K_b, 3, T, T]`` uint8 teacher crops of the same regions. whole: ``[3, T, T]`` uint8.
            image_id: the dataset's image ids (keys of ``cache_teacher``).
            mode: ``'loss'`` -> dict of losses and logged values; ``'tensor'`` -> the student's RoI features.
        """
        x = self._norm(torch.stack(image))  # shape: [B, 3, S, S]
        rois = self.student.roi_features(self.student.encode_dense(x), boxes)  # shape: [N, D], unit norm
        if mode == 'tensor':
            return rois
        if mode != 'loss':
            raise ValueError(f"CLIPSelf.forward: mode must be 'loss' or 'tensor', got {mode!r}")
        crops_x = self._norm(torch.cat(crops))  # shape: [N, 3, T, T]
        keys = None
        if self.cache_teacher and image_id is not None:
            image_id = [i.item() if torch.is_tensor(i) else i for i in image_id]
            keys = [(i, *box) for i, b in zip(image_id, boxes) for box in b.tolist()]
        target = self._teacher_embeddings(crops_x, keys)  # shape: [N, D], unit norm
        cos = (rois * target).sum(-1)
        losses = {'loss_cosine': self.loss_cosine_weight * (1 - cos.mean())}
        if self.loss_image_weight > 0:
            losses['loss_image'] = self.loss_image_weight * self._image_term(
                crops_x, target, [len(c) for c in crops], whole,
                None if keys is None else [(i, 'whole') for i in image_id])
        losses['num_regions'] = torch.tensor(float(len(cos)), device=cos.device)
        losses['skipped_images'] = torch.tensor(float(sum(skipped or [])), device=cos.device)
        return losses

    @torch.no_grad()
    def _teacher_embeddings(self, x: torch.Tensor, keys: Optional[list] = None) -> torch.Tensor:
        """``teacher.encode_image(x)`` ``[N, D]`` for normalised crops ``x [N, 3, T, T]``; with ``keys`` (one per
        crop) only the crops missing from the cache are encoded."""
        if keys is None:
            return self.teacher.encode_image(x)
        cache = self._teacher_cache
        missing = [k for k, key in enumerate(keys) if key not in cache]
        if missing:
            for k, e in zip(missing, self.teacher.encode_image(x[missing]).cpu()):
                cache[keys[k]] = e
        return torch.stack([cache[key] for key in keys]).to(x.device)

    def _image_term(self, crops_x: torch.Tensor, target: torch.Tensor, per_image: List[int],
                    whole: Optional[List[torch.Tensor]], whole_keys: Optional[list] = None) -> torch.Tensor:
        """``1 - mean cos(student.encode_image(x), teacher.encode_image(x))`` over the crops ``crops_x``
        ``[N, 3, T, T]`` (normalised; ``target [N, D]`` their teacher embeddings, ``per_image`` their count per
        image), at most ``loss_image_crops`` of each image's, plus the whole images ``[3, T, T]`` uint8."""
        if self.loss_image_crops is not None:
            starts = itertools.accumulate([0] + per_image[:-1])
            keep = torch.cat([s + torch.randperm(n)[:self.loss_image_crops] for s, n in zip(starts, per_image)])
            crops_x, target = crops_x[keep], target[keep]
        if whole is not None:
            whole_x = self._norm(torch.stack(whole))
            target = torch.cat([target, self._teacher_embeddings(whole_x, whole_keys)])
            crops_x = torch.cat([crops_x, whole_x])
        if not len(crops_x):
            raise ValueError('loss_image has no inputs: loss_image_crops is 0 and the batch has no whole images')
        return 1 - (self.student.encode_image(crops_x) * target).sum(-1).mean()

    # -- evaluation (zero-shot region classification on the student) ----------------------------------
    def _region_classifier(self):
        if self._evaluator is None:
            from ..engine.region_eval import CLIPRegionClassifier
            evaluator = CLIPRegionClassifier(clip=self.student, **self.eval_cfg)
            object.__setattr__(self, '_evaluator', evaluator)  # not a submodule: no weights of its own
        return self._evaluator

    def val_step(self, data):
        return self._region_classifier().val_step(data)

    def test_step(self, data):
        return self._region_classifier().test_step(data)

    # -- export -----------------------------------------------------------------------------------------
    def ensemble_state_dict(self, alpha: Optional[float] = None) -> Dict[str, torch.Tensor]:
        """open_clip state dict of ``alpha * student + (1 - alpha) * teacher`` (alpha default: the config's)."""
        from .export import ensemble_state_dict
        return ensemble_state_dict(self.student.clip.state_dict(), self.teacher.clip.state_dict(),
                                   self.alpha if alpha is None else alpha)
