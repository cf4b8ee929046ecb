"""Export distilled weights: the weight-space ensemble ``alpha * student + (1 - alpha) * teacher``."""
from typing import Dict, Optional

import torch

from ..models.checkpoint import save_safetensors
from ..models.dense_mode import DenseMode

StateDict = Dict[str, torch.Tensor]


def ensemble_state_dict(student: StateDict, teacher: StateDict, alpha: float) -> StateDict:
    """Blend two state dicts of the same CLIP key by key (floating tensors only; others from the student).

    ``alpha = 1`` gives the student, ``alpha = 0`` the teacher (CLIPSelf: 0.7 for B/16, 0.95 for L/14).
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    if student.keys() != teacher.keys():
        diff = sorted(set(student) ^ set(teacher))[:5]
        raise ValueError(f'student and teacher state dicts differ in keys, e.g. {diff}')
    out = {}
    for k, s in student.items():
        t = teacher[k]
        if s.shape != t.shape:
            raise ValueError(f'{k}: student {tuple(s.shape)} vs teacher {tuple(t.shape)}')
        out[k] = (alpha * s.float() + (1 - alpha) * t.float()).to(s.dtype) if s.is_floating_point() else s
    return out


def split_clipself_state_dict(state_dict: StateDict) -> Dict[str, StateDict]:
    """``{'student': ..., 'teacher': ...}`` open_clip state dicts from a CLIPSelf training checkpoint
    (keys ``student.clip.*`` / ``teacher.clip.*``, optionally behind DDP's ``module.``)."""
    out = {'student': {}, 'teacher': {}}
    for k, v in state_dict.items():
        k = k[len('module.'):] if k.startswith('module.') else k
        for part in out:
            prefix = f'{part}.clip.'
            if k.startswith(prefix):
                out[part][k[len(prefix):]] = v
    if not out['student'] or not out['teacher']:
        raise ValueError('not a CLIPSelf training checkpoint: no student.clip.* / teacher.clip.* weights')
    return out


def dense_mode_metadata(dense_mode=None) -> dict:
    """``{'dense_mode': {...}}`` for the export metadata of a decoupled distillation (``build_clip`` then runs that
    last block and refuses another); ``{}`` for CLIPSelf's attention-free block (exports stay as they were)."""
    mode = DenseMode.parse(dense_mode)
    return {'dense_mode': mode.to_dict()} if mode.decoupled else {}


def export_clip(state_dict: StateDict, path: str, *, model_name: str, alpha: float,
                extra: Optional[dict] = None, dense_mode=None) -> str:
    """Write the ensemble of a CLIPSelf checkpoint's state dict as safetensors that ``build_clip`` loads;
    ``dense_mode``: the last block the run distilled (recorded, see :func:`dense_mode_metadata`)."""
    parts = split_clipself_state_dict(state_dict)
    weights = ensemble_state_dict(parts['student'], parts['teacher'], alpha)
    return save_safetensors(weights, path, model_name=model_name,
                            extra=dict(alpha=alpha, **(extra or {}), **dense_mode_metadata(dense_mode)))
