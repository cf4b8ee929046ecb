"""Checkpoint plumbing for mmengine runs: atomic writes, safe loading, and routing ``tools/test.py``'s file.

- ``AtomicLocalBackend`` (mmengine file backend ``'atomic_local'``): writes to a temporary file in the
  same folder and renames it, so a kill during a save never leaves a truncated checkpoint behind;
  configs select it with ``default_hooks.checkpoint.backend_args = dict(backend='atomic_local')``.
- safe loading of mmengine checkpoints under ``weights_only=True``: :mod:`clipself.engine.patches`.
- :func:`route_test_checkpoint`: a file of a CLIP (EVA-CLIP, OpenAI, open_clip, our export) goes to the
  model's ``clip.pretrained``; an mmengine training checkpoint goes to ``load_from`` (with the decoupled last block
  a DeCLIP-style run records in its meta).
"""
import os
import pickle
import zipfile
from pathlib import Path
from typing import Union

import torch
from mmengine.fileio import LocalBackend, register_backend

from ..fileio import atomic_write
from ..models.checkpoint import CheckpointError, is_torchscript
from ..models.dense_mode import DenseMode


@register_backend('atomic_local', force=True)
class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``put`` / ``put_text`` are atomic (tmp file + ``os.replace``)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        with atomic_write(filepath, 'wb', fsync=True) as f:
            f.write(obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        with atomic_write(filepath, 'wb', fsync=True) as f:
            f.write(obj.encode(encoding))


def _training_checkpoint_meta(path: str):
    """The ``meta`` dict of an mmengine checkpoint (a dict with ``meta`` and ``state_dict``), None for a CLIP file
    (safetensors files and TorchScript archives are CLIP files). A pickle that cannot be read safely (corrupt,
    truncated, unsafe globals) is an error here, naming the file: it would fail as either kind."""
    if path.endswith('.safetensors') or is_torchscript(path):
        return None
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True, mmap=zipfile.is_zipfile(path))
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError, OSError) as e:
        raise CheckpointError(f'cannot read checkpoint {path} (neither a CLIP file nor an mmengine training '
                              f'checkpoint that torch.load(weights_only=True) accepts): {type(e).__name__}: {e}') from e
    return obj['meta'] if isinstance(obj, dict) and 'meta' in obj and 'state_dict' in obj else None


def route_test_checkpoint(cfg, checkpoint: str) -> None:
    """Point the config at ``checkpoint``: a CLIP file -> ``cfg.model.clip.pretrained`` (for models built
    from a CLIP: region classification, CLIPSelf); anything else -> ``cfg.load_from`` (the CLIP is then built
    without weights of its own: all come from the checkpoint). The word ``random`` (no such file) evaluates
    a randomly initialised CLIP (tiny configs, plumbing checks)."""
    clip_cfg = cfg.model.get('clip') if hasattr(cfg.model, 'get') else None
    if checkpoint == 'random' and not os.path.exists(checkpoint):
        if clip_cfg is None:
            raise ValueError("'random' weights need a model built from a CLIP (model.clip in the config)")
        clip_cfg['pretrained'] = None
        cfg.load_from = None
        return
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    meta = _training_checkpoint_meta(checkpoint) if clip_cfg is not None else None
    if clip_cfg is not None and meta is None:
        clip_cfg['pretrained'] = checkpoint
        cfg.load_from = None
    else:
        if clip_cfg is not None:
            clip_cfg['pretrained'] = None
            mode = (meta or {}).get('clip_dense_mode')  # a DeCLIP-style run: its CLIP runs the decoupled block
            if mode is not None and DenseMode.parse(mode).decoupled:
                asked = clip_cfg.get('dense_mode')
                if asked is not None and DenseMode.parse(asked) != DenseMode.parse(mode):
                    raise CheckpointError(f'{checkpoint} was distilled with dense_mode {DenseMode.parse(mode)}, the '
                                          f'config asks for {DenseMode.parse(asked)}')
                clip_cfg['dense_mode'] = mode
        cfg.load_from = checkpoint
