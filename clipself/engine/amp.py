"""``--amp``: switch a config's optimiser wrapper to mmengine's AmpOptimWrapper."""
import torch
from mmengine.config import Config


def enable_amp(cfg: Config) -> None:
    """fp16 with a dynamic loss scale on CUDA, bf16 on CPU (fp16 autocast is not supported there)."""
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, the config has {wrapper}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    if torch.cuda.is_available():
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        cfg.optim_wrapper.setdefault('dtype', 'float16')
    else:
        cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
