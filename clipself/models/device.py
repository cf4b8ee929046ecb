"""Where a model's weights are."""
import torch


def module_device(module) -> torch.device:
    """The device of ``module``'s first parameter; CPU for a module without parameters (or a non-module)."""
    try:
        return next(module.parameters()).device
    except (AttributeError, StopIteration):
        return torch.device('cpu')
