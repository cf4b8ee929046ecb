"""The model inside a runner's wrapper (DDP, FSDP, ...)."""
from mmengine.model import is_model_wrapper


def unwrap_model(model):
    """``model.module`` for an mmengine model wrapper, else ``model`` itself."""
    return model.module if is_model_wrapper(model) else model
