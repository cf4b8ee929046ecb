"""Automatic mixed precision of a config: mmengine's ``AmpOptimWrapper`` (bf16 where the GPU has it, else fp16 with a
dynamic loss scale) on CUDA, the plain ``OptimWrapper`` on CPU.

A config says ``amp = 'auto'`` (the GPU training configs: on with CUDA, off without), ``amp = True`` (on; fails
early without CUDA) or ``amp = False`` (off: ``--cfg-options amp=False``). ``tools/train.py --amp`` is ``amp = True``.
"""
from typing import Optional, Union

import torch
from mmengine.config import Config

AmpSetting = Union[bool, str]


def amp_dtype() -> str:
    """``'bfloat16'`` on GPUs that support it (Ampere and later), else ``'float16'``."""
    return 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float16'


def enable_amp(cfg: Config, dtype: Optional[str] = None) -> None:
    """Switch ``cfg.optim_wrapper`` to ``AmpOptimWrapper`` (``dtype`` default :func:`amp_dtype`; fp16 gets
    ``loss_scale='dynamic'``). Needs a GPU: mmengine's AmpOptimWrapper refuses CPU-only machines, so this fails
    early with a clear message there."""
    if not torch.cuda.is_available():
        raise SystemExit('AMP (--amp, amp=True) needs a CUDA GPU (mmengine AmpOptimWrapper); run without it or with '
                         "amp='auto' on this machine")
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(f'AMP needs optim_wrapper.type OptimWrapper, the config has {wrapper}')
    dtype = dtype or amp_dtype()
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.setdefault('dtype', dtype)
    if dtype == 'float16':
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def resolve_amp(cfg: Config) -> bool:
    """Apply the config's ``amp`` setting (see the module doc; absent = False) to its optimiser wrapper: ``'auto'``
    is on when CUDA is available. Returns whether AMP is on."""
    setting: AmpSetting = cfg.get('amp', False)
    if setting not in (True, False, 'auto'):
        raise ValueError(f"config key amp must be True, False or 'auto', got {setting!r}")
    on = setting is True or (setting == 'auto' and torch.cuda.is_available())
    if on and 'optim_wrapper' in cfg:
        enable_amp(cfg)
    return bool(on)
