"""``RegionCLIP``: the RegionCLIP-style baseline of the CLIPSelf paper, beside :class:`~clipself.distill.CLIPSelf`.

The student's region features of pseudo-labelled boxes are classified against noun text embeddings with a
federated binary cross-entropy: per batch the nouns of its boxes plus random other nouns, up to 100 in all, each
a binary target (the box's own noun 1, the others 0), logits ``s * cos(region, noun)`` with ``s`` the CLIP's
own logit scale, frozen. A plain ``torch.nn.Module``::

    model = RegionCLIP(clip=dict(model_name='EVA02-B-16', pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'),
                       noun_embeddings='data/embeddings/coco_pseudo_4764_vild_eva02-b16.pt')
    losses = model.loss(images, boxes, labels)   # {'loss_bce': ..., 'num_regions': ..., 'num_nouns': ...}

The mmengine model of the ``RegionCLIP`` config type is :class:`clipself.engine.regionclip_model.RegionCLIPModel`.
The box and noun-embedding file formats: :mod:`clipself.data.region_nouns`.
"""
import os
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from ..data.region_nouns import load_noun_embeddings
from ..models.text import Templates, build_text_embeddings
from .student import Images, StudentTeacher

NounSource = Union[str, os.PathLike, torch.Tensor, Sequence[str]]


def sample_nouns(labels: torch.Tensor, num_nouns: int, max_nouns: int = 100,
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """The nouns a batch is scored against: every noun in ``labels`` (sorted), then random other nouns (uniform,
    without replacement) until there are ``min(max_nouns, num_nouns)``. The present nouns are always all kept:
    a batch with more than ``max_nouns`` distinct labels is scored against all of them (and no others).

    Args:
        labels: ``[N]`` int64 noun labels in ``[0, num_nouns)``.
        num_nouns: the size of the vocabulary ``C``.
        generator: the random draw's generator (default: torch's global one).
    Returns:
        ``[M]`` int64 noun indices, present ones first, on ``labels``' device.
    """
    present = torch.unique(labels)
    want = min(max_nouns, num_nouns)
    if len(present) >= want:
        return present
    weights = torch.ones(num_nouns)
    weights[present.cpu()] = 0
    others = torch.multinomial(weights, want - len(present), replacement=False, generator=generator)
    return torch.cat([present, others.to(present.device)])


def federated_bce(regions: torch.Tensor, labels: torch.Tensor, nouns: torch.Tensor, sampled: torch.Tensor,
                  logit_scale: Union[float, torch.Tensor]) -> torch.Tensor:
    """``mean_i sum_j BCE(s * <region_i, noun_j>, [label_i == j])`` over the sampled nouns ``j``.

    Args:
        regions: ``[N, D]`` region features. labels: ``[N]`` their noun labels. nouns: ``[C, D]`` noun
            embeddings. sampled: ``[M]`` the noun indices scored (:func:`sample_nouns`). logit_scale: ``s``.
    Returns:
        a scalar: summed over the ``M`` nouns, averaged over the ``N`` regions.
    """
    logits = logit_scale * regions @ nouns[sampled].t()  # shape: [N, M]
    target = (labels[:, None] == sampled[None, :]).to(logits.dtype)  # shape: [N, M]
    return F.binary_cross_entropy_with_logits(logits, target, reduction='none').sum(-1).mean()


def _read_nouns(source: NounSource) -> Optional[torch.Tensor]:
    """``[C, D]`` from a noun-embedding file or a tensor; None for a list of noun names (embedded later)."""
    if isinstance(source, torch.Tensor):
        return source.detach()
    if isinstance(source, (str, os.PathLike)):
        return load_noun_embeddings(source)[1]
    if isinstance(source, (list, tuple)) and source and all(isinstance(n, str) and n.strip() for n in source):
        return None
    raise ValueError('noun_embeddings: expected a file path, a [C, D] tensor or a non-empty list of nouns, '
                     f'got {type(source).__name__}')


class RegionCLIP(StudentTeacher):
    """The student CLIP trained to name pseudo-labelled regions; a frozen copy of the initial CLIP is kept only for
    the exported ensemble ``alpha * student + (1 - alpha) * teacher`` (it runs no forward).

    ``loss_bce = loss_weight * mean_i sum_{j in S} BCE(s * cos(RoIAlign(student.encode_dense(image), box_i),
    noun_j), [label_i == j])`` where ``S`` = :func:`sample_nouns` of the batch's labels and ``s`` the CLIP's logit
    scale (``exp(logit_scale)``, 100 for EVA-CLIP), frozen. Region features and noun embeddings are L2-normalised.

    Args:
        clip / train_blocks / alpha / grad_checkpointing: as :class:`~clipself.distill.student.StudentTeacher`.
        noun_embeddings: a noun-embedding file (``.pt`` or ``.npy``, :mod:`clipself.data.region_nouns`), a
            ``[C, D]`` tensor, or a list of ``C`` noun names, embedded here with the CLIP's own (frozen) text tower
            and ``noun_templates``. Row ``i`` is the noun of label ``i``.
        noun_templates: the prompt templates of a list of names (``'vild'``, ``'single'``, ... or a list).
        max_nouns: how many nouns a batch is scored against (present ones plus random others; reference: 100).
        logit_scale: ``s``; None: the CLIP's own.
        loss_weight: weight of ``loss_bce``.
    """

    def __init__(self, *, clip: dict, noun_embeddings: NounSource, noun_templates: Templates = 'vild',
                 train_blocks: Union[str, Sequence[int]] = 'all', max_nouns: int = 100,
                 logit_scale: Optional[float] = None, loss_weight: float = 1.0, alpha: float = 0.7,
                 grad_checkpointing: bool = False):
        if max_nouns < 1:
            raise ValueError(f'max_nouns must be >= 1, got {max_nouns}')
        source = (os.fspath(noun_embeddings) if isinstance(noun_embeddings, (str, os.PathLike))
                  else 'the given noun embeddings')
        # a file or a tensor is read before the CLIP is built (a wrong path fails fast); names need its text tower
        emb = _read_nouns(noun_embeddings)
        super().__init__(clip=clip, train_blocks=train_blocks, alpha=alpha, grad_checkpointing=grad_checkpointing)
        self.max_nouns, self.loss_weight, self._logit_scale = max_nouns, loss_weight, logit_scale
        self.noun_source = source
        if emb is None:
            emb = build_text_embeddings(self.student, list(noun_embeddings), templates=noun_templates).cpu()
        if emb.dim() != 2 or emb.shape[1] != self.student.embed_dim:
            raise ValueError(f'noun embeddings from {self.noun_source} are {tuple(emb.shape)}, expected '
                             f'[C, {self.student.embed_dim}] for {self.model_name} (made with another CLIP?)')
        # not in the state dict: the config names the file, checkpoints hold only the CLIPs
        self.register_buffer('noun_embeddings', F.normalize(emb.float(), dim=-1), persistent=False)

    @property
    def logit_scale(self) -> torch.Tensor:
        """``s``: the configured value, or the CLIP's ``exp(logit_scale)`` (frozen: no gradient)."""
        if self._logit_scale is not None:
            return torch.tensor(float(self._logit_scale))
        return self.student.clip.logit_scale.detach().exp()

    def loss(self, images: Images, boxes: List[torch.Tensor], labels: List[torch.Tensor], *,
             generator: Optional[torch.Generator] = None) -> Dict[str, torch.Tensor]:
        """The loss of a batch.

        Args:
            images: ``[B, 3, S, S]`` (or B tensors ``[3, S, S]``) uint8 or float 0-1 student inputs.
            boxes: B tensors ``[K_b, 4]`` xyxy in student pixels.
            labels: B tensors ``[K_b]`` int64 noun labels (rows of ``noun_embeddings``).
            generator: for the sampled nouns (default: torch's global generator).
        Returns:
            ``loss_bce`` (weighted); ``num_regions`` and ``num_nouns`` (how many nouns were scored; logged).
        """
        if len(labels) != len(boxes) or any(len(lb) != len(b) for lb, b in zip(labels, boxes)):
            raise ValueError(f'one label per box expected: boxes {[len(b) for b in boxes]}, '
                             f'labels {[len(lb) for lb in labels]}')
        num_nouns = len(self.noun_embeddings)
        lab = torch.cat([torch.as_tensor(lb, dtype=torch.long).reshape(-1) for lb in labels]) if labels else \
            torch.zeros(0, dtype=torch.long)
        if len(lab) and (int(lab.min()) < 0 or int(lab.max()) >= num_nouns):
            bad = int(lab.min()) if int(lab.min()) < 0 else int(lab.max())
            raise ValueError(f'noun label {bad} out of range: labels are rows of the noun embeddings, 0 to '
                             f'{num_nouns - 1} ({self.noun_source})')
        dense = self.dense_features(images)  # shape: [B, D, h, w], unit norm
        if not len(lab):  # nothing to name: a zero that keeps the graph (DDP waits for every gradient)
            none = torch.zeros((), device=dense.device)
            return {'loss_bce': dense.sum() * 0, 'num_regions': none, 'num_nouns': none}
        regions = self.student.roi_features(dense, boxes)  # shape: [N, D], unit norm
        lab = lab.to(regions.device)
        sampled = sample_nouns(lab, num_nouns, self.max_nouns, generator)  # shape: [M]
        scale = self.logit_scale.to(regions.device)
        loss = federated_bce(regions, lab, self.noun_embeddings.to(regions.dtype), sampled, scale)
        return {'loss_bce': self.loss_weight * loss,
                'num_regions': torch.tensor(float(len(lab)), device=regions.device),
                'num_nouns': torch.tensor(float(len(sampled)), device=regions.device)}
