"""Process-wide changes to mmengine, torch and open_clip that clipself runs need, each a named, idempotent
function; :func:`apply_all` applies them.

Where they are applied: ``tools/train.py`` and ``tools/test.py`` call :func:`apply_all` before reading the
config, and so do the two registration entry points that configs name in ``custom_imports``
(``clipself.engine`` for the clipself scope, ``clipself.det`` for mmdet configs), so that a runner started by
any script from one of our configs gets them. Nothing else in the library changes global state on import.

- :func:`picklable_history_buffers`: mmengine's ``HistoryBuffer.__getstate__`` pickles its statistics
  *functions* (``getattr(HistoryBuffer, 'min')``, ...), which no safe loader may accept: stock mmengine
  checkpoints cannot be resumed under torch's ``weights_only=True`` default (torch >= 2.6). Buffers are pickled
  without them; mmengine's ``__setstate__`` re-registers the methods on load.
- :func:`allow_mmengine_checkpoints`: the remaining non-tensor types of mmengine checkpoints (``HistoryBuffer``,
  numpy arrays and scalars of the logging state) become torch safe globals, instead of turning safe loading off.
- :func:`history_buffer_total`: a ``'total'`` statistic for mmengine's log processor (the running count of
  skipped images: ``custom_cfg=[dict(data_src='skipped_images', method_name='total', window_size='global')]``).
- :func:`register_open_clip_configs`: the tiny architectures' json configs known to open_clip
  (``clipself.models.tiny.register_model_configs``; ``build_clip`` also makes sure of it itself).
"""
import numpy as np
import torch

from ..models.tiny import register_model_configs as register_open_clip_configs

__all__ = ['apply_all', 'picklable_history_buffers', 'allow_mmengine_checkpoints', 'history_buffer_total',
           'register_open_clip_configs']


def picklable_history_buffers() -> None:
    """Pickle mmengine ``HistoryBuffer`` objects without their statistics functions (idempotent)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if getattr(HistoryBuffer.__getstate__, '_clipself', False):
        return

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop('statistics_methods', None)
        return state

    __getstate__._clipself = True
    HistoryBuffer.__getstate__ = __getstate__


def allow_mmengine_checkpoints() -> None:
    """Register the non-tensor types of mmengine checkpoints as safe for ``torch.load(weights_only=True)``
    (idempotent: types already registered are not added again)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtypes = [type(np.dtype(t)) for t in ('float64', 'float32', 'float16', 'int64', 'int32', 'uint8', 'bool')]
    known = set(map(id, torch.serialization.get_safe_globals()))
    new = [t for t in (HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar, *dtypes) if id(t) not in known]
    if new:
        torch.serialization.add_safe_globals(new)


def history_buffer_total() -> None:
    """Register the ``'total'`` statistic with mmengine's ``HistoryBuffer`` (idempotent)."""
    from mmengine.logging import HistoryBuffer
    if 'total' in HistoryBuffer._statistics_methods:
        return

    def total(self, window_size=None) -> float:
        """Sum of the logged values (over the last ``window_size``; the log processor's ``'global'`` window
        makes it a running total, e.g. of skipped images)."""
        values = self._log_history if window_size is None else self._log_history[-window_size:]
        return float(np.sum(values))

    HistoryBuffer.register_statistics(total)


def apply_all() -> None:
    """Every patch above, once (each is idempotent: calling this again changes nothing)."""
    picklable_history_buffers()
    allow_mmengine_checkpoints()
    history_buffer_total()
    register_open_clip_configs()
