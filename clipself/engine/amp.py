"""``--amp``: switch a config's optimiser wrapper to mmengine's AmpOptimWrapper (fp16 + dynamic loss scale)."""
import torch
from mmengine.config import Config


def enable_amp(cfg: Config, dtype: str = 'float16') -> None:
    """fp16 autocast with a dynamic loss scale (``dtype='bfloat16'`` for bf16). Needs a GPU: mmengine's
    AmpOptimWrapper refuses CPU-only machines, so this fails early with a clear message there."""
    if not torch.cuda.is_available():
        raise SystemExit('--amp needs a CUDA GPU (mmengine AmpOptimWrapper); run without --amp on this machine')
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, the config has {wrapper}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.setdefault('dtype', dtype)
    if dtype == 'float16':
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
