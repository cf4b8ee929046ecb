"""Frozen towers held in the autocast dtype: under AMP a frozen model's fp32 weights would be cast to bf16/fp16 by
every matmul of every call (the teacher of CLIPSelf, F-ViT's CLIP); held in that dtype they are cast once.

:func:`match_autocast` converts a frozen module to the dtype autocast runs in at the call (and back to fp32 when
autocast is off). Its state dict stays exact: the fp32 values are kept on the host while the module is held in
half precision and are what ``state_dict()`` returns (checkpoints, resume, the CLIPSelf ensemble export read
fp32); loading a state dict puts the module back in fp32 first.
"""
import itertools
from typing import Dict, Optional

import torch
import torch.nn as nn

_MASTER = '_fp32_master'  # attribute of the module: {name: fp32 CPU tensor} while held in half


def held_dtype(module: nn.Module) -> torch.dtype:
    """The dtype the module's floating weights are held in now (float32 for a module without parameters)."""
    p = next((p for p in module.parameters() if p.is_floating_point()), None)
    return torch.float32 if p is None else p.dtype


def autocast_dtype(device_type: str) -> Optional[torch.dtype]:
    """The dtype autocast runs ``device_type`` ops in at this point, or None when autocast is off."""
    return torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else None


def match_autocast(module: nn.Module, device_type: str) -> torch.dtype:
    """Hold the frozen ``module`` in the current autocast dtype of ``device_type`` (fp32 when autocast is off);
    returns that dtype. A no-op when it already is; the first call installs the state-dict hooks."""
    want = autocast_dtype(device_type) or torch.float32
    if held_dtype(module) == want:
        return want
    if any(p.requires_grad for p in module.parameters()):
        raise ValueError('match_autocast is for frozen modules: this one has parameters that require grad')
    _install_hooks(module)
    if want == torch.float32:
        _restore_fp32(module)
    else:
        if getattr(module, _MASTER, None) is None:
            master = {k: v.detach().to('cpu', torch.float32, copy=True) for k, v in _tensors(module).items()
                      if v.is_floating_point()}
            object.__setattr__(module, _MASTER, master)
        module.to(want)
    return want


def _tensors(module: nn.Module) -> Dict[str, torch.Tensor]:
    """Parameters and buffers (persistent or not) by name: the state dict's keys for those it holds."""
    return dict(itertools.chain(module.named_parameters(), module.named_buffers()))


def _restore_fp32(module: nn.Module) -> None:
    master: Optional[Dict[str, torch.Tensor]] = getattr(module, _MASTER, None)
    module.float()
    if master is not None:
        with torch.no_grad():
            for k, v in _tensors(module).items():
                if k in master:
                    v.copy_(master[k])
        object.__setattr__(module, _MASTER, None)


def _install_hooks(module: nn.Module) -> None:
    if getattr(module, '_fp32_hooks', False):
        return

    def save_fp32(mod, state_dict, prefix, local_metadata):
        master = getattr(mod, _MASTER, None)
        if master is not None:
            for k, v in master.items():
                if prefix + k in state_dict:
                    state_dict[prefix + k] = v.clone()
        return state_dict

    def load_in_fp32(mod, *args, **kwargs):
        if getattr(mod, _MASTER, None) is not None or held_dtype(mod) != torch.float32:
            object.__setattr__(mod, _MASTER, None)  # the loaded values replace the kept ones
            mod.float()

    module._register_state_dict_hook(save_fp32)
    module._register_load_state_dict_pre_hook(load_in_fp32, with_module=True)
    object.__setattr__(module, '_fp32_hooks', True)
