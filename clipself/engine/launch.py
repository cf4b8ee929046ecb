"""What ``tools/train.py`` and ``tools/test.py`` share: reading the config and preparing the launch."""
import os.path as osp
from typing import Optional, Sequence

import torch
from mmengine.config import Config


def prepare_config(config: str, *, work_dir: Optional[str] = None, cfg_options: Optional[dict] = None,
                   launcher: str = 'none') -> Config:
    """Load ``config``, apply ``--cfg-options``, set the launcher and the work dir
    (default ``work_dirs/CONFIG_NAME``). On machines without CUDA a ``pytorch`` launch uses gloo: the process
    group is created here (mmengine's launcher would call ``torch.cuda.set_device``) and DDP gets no device ids,
    and the data loaders' ``pin_memory`` is turned off (pinned host memory serves only a GPU; torch warns about it
    without one)."""
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir or cfg.get('work_dir') or osp.join('work_dirs', osp.splitext(osp.basename(config))[0])
    if not torch.cuda.is_available():
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(key) and cfg[key].get('pin_memory'):
                cfg[key].pin_memory = False
    if launcher == 'pytorch' and not torch.cuda.is_available():
        import torch.distributed as dist
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
        if not dist.is_initialized():
            dist.init_process_group(backend='gloo')
        wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel', broadcast_buffers=False)
        wrapper['device_ids'] = None  # CPU modules: DDP takes no device ids
        cfg.model_wrapper_cfg = wrapper
    return cfg


def common_arguments(parser, launchers: Sequence[str] = ('none', 'pytorch', 'slurm', 'mpi')) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank`` (as mmdet's tools take them)."""
    from mmengine.config import DictAction
    parser.add_argument('--work-dir', help='where logs, checkpoints and results go (default: work_dirs/CONFIG_NAME)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys, e.g. a.b=1')
    parser.add_argument('--launcher', choices=list(launchers), default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def finish_launch() -> None:
    """Wait for every process, then tear the process group down (an implicit teardown at interpreter exit
    can abort a gloo process with 'terminate called without an active exception')."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
