"""Checkpoint plumbing for mmengine runs: atomic writes, safe loading, and routing ``tools/test.py``'s file.

- ``AtomicLocalBackend`` (mmengine file backend ``'atomic_local'``): writes to a temporary file in the
  same folder and renames it, so a kill during a save never leaves a truncated checkpoint behind;
  configs select it with ``default_hooks.checkpoint.backend_args = dict(backend='atomic_local')``.
- :func:`allow_mmengine_checkpoints`: torch >= 2.6 loads with ``weights_only=True`` by default; mmengine
  checkpoints also hold its logging state (``HistoryBuffer``, numpy scalars). Those few types are
  registered as safe globals instead of turning safe loading off.
- :func:`_picklable_history_buffers`: mmengine's ``HistoryBuffer.__getstate__`` pickles its statistics
  *functions* (``getattr(HistoryBuffer, 'min')``), which no safe loader may accept, so stock mmengine
  checkpoints cannot be resumed under torch's ``weights_only`` default. Our runs pickle the buffers
  without them; the methods are re-registered on load (mmengine's ``__setstate__`` does that).
- :func:`route_test_checkpoint`: a file of a CLIP (EVA-CLIP, OpenAI, open_clip, our export) goes to the
  model's ``clip.pretrained``; an mmengine training checkpoint goes to ``load_from``.
"""
import os
import tempfile
from pathlib import Path
from typing import Union

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend


@register_backend('atomic_local', force=True)
class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``put`` / ``put_text`` are atomic (tmp file + ``os.replace``)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        self._atomic_write(filepath, obj, 'wb')

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        self._atomic_write(filepath, obj.encode(encoding), 'wb')

    @staticmethod
    def _atomic_write(filepath, data: bytes, mode: str) -> None:
        folder = os.path.dirname(os.path.abspath(filepath))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(filepath), suffix='.tmp')
        try:
            with os.fdopen(fd, mode) as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)


def allow_mmengine_checkpoints() -> None:
    """Register the non-tensor types of mmengine checkpoints as safe for ``torch.load(weights_only=True)``."""
    from mmengine.logging.history_buffer import HistoryBuffer
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtypes = [type(np.dtype(t)) for t in ('float64', 'float32', 'float16', 'int64', 'int32', 'uint8', 'bool')]
    torch.serialization.add_safe_globals([HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar, *dtypes])


def _picklable_history_buffers() -> None:
    from mmengine.logging.history_buffer import HistoryBuffer

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop('statistics_methods', None)
        return state

    HistoryBuffer.__getstate__ = __getstate__


def _is_training_checkpoint(path: str) -> bool:
    """mmengine checkpoints are dicts with ``meta`` and ``state_dict``."""
    if path.endswith('.safetensors'):
        return False
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True, mmap=True)
    except Exception:
        return False
    return isinstance(obj, dict) and 'meta' in obj and 'state_dict' in obj


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
    if clip_cfg is not None and not _is_training_checkpoint(checkpoint):
        clip_cfg['pretrained'] = checkpoint
        cfg.load_from = None
    else:
        if clip_cfg is not None:
            clip_cfg['pretrained'] = None
        cfg.load_from = checkpoint


allow_mmengine_checkpoints()
_picklable_history_buffers()
