"""mmengine registrations of the CLIPSelf stage: the model, the dataset and the hooks of a distillation run."""
import math
import os
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from ..data.distill_dataset import CLIPSelfDataset
from ..distill.model import CLIPSelf
from ..models.checkpoint import save_safetensors
from ..registry import DATASETS, HOOKS, MODELS
from .synthetic import ensure_generated

MODELS.register_module(module=CLIPSelf)


if 'total' not in HistoryBuffer._statistics_methods:
    @HistoryBuffer.register_statistics
    def total(self, window_size=None) -> float:
        """Sum of the logged values (over the last ``window_size``; the log processor's ``'global'`` window
        makes it a running total, e.g. of skipped images)."""
        values = self._log_history if window_size is None else self._log_history[-window_size:]
        return float(np.sum(values))


@DATASETS.register_module(name='CLIPSelfDataset')
def build_clipself_dataset(*, generate: Optional[dict] = None, **kwargs) -> CLIPSelfDataset:
    """``CLIPSelfDataset`` from a config; with ``generate=dict(num_images=..., seed=...)`` the images, COCO
    json and proposals are first generated into ``data_root`` (once; kept for later runs), so the same
    loader reads them as it reads COCO."""
    ensure_generated(generate, kwargs.get('data_root', ''), os.path.join('annotations', 'instances.json'))
    return CLIPSelfDataset(**kwargs)


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class ExportCLIPHook(Hook):
    """With every checkpoint, also write the ensemble ``alpha * student + (1 - alpha) * teacher`` as
    ``{work_dir}/{out_dir}/epoch_{E}.safetensors`` (or ``iter_{I}``), loadable by ``build_clip`` and by the
    detector / segmenter configs. Runs where checkpoints are written (rank 0)."""

    priority = 'LOW'

    def __init__(self, out_dir: str = 'exported', alpha: Optional[float] = None):
        self.out_dir, self.alpha = out_dir, alpha

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = _unwrap(runner.model)
        meta = checkpoint.setdefault('meta', {})
        meta['clip_model_name'] = model.model_name
        meta['clip_alpha'] = model.alpha
        by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)
        name = f"epoch_{meta.get('epoch', runner.epoch)}" if by_epoch else f"iter_{meta.get('iter', runner.iter)}"
        path = os.path.join(runner.work_dir, self.out_dir, name + '.safetensors')
        alpha = model.alpha if self.alpha is None else self.alpha
        save_safetensors(model.ensemble_state_dict(alpha), path, model_name=model.model_name,
                         extra=dict(alpha=alpha, epoch=meta.get('epoch'), iter=meta.get('iter')))
        runner.logger.info(f'exported the CLIP ensemble (alpha {alpha}) to {path}')


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop the run with a clear message when the loss is NaN or infinite."""

    priority = 'VERY_HIGH'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not outputs:
            return
        for key, value in outputs.items():
            value = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
            if 'loss' in key and not math.isfinite(value):
                raise FloatingPointError(
                    f'{key} = {value} at iteration {runner.iter + 1} (epoch {runner.epoch + 1}): stopping. '
                    f'Lower the learning rate or check the data; resume from the last checkpoint in {runner.work_dir}.')


@HOOKS.register_module()
class ThroughputHook(Hook):
    """Log ``images_per_s`` (all processes together) from the iteration time of ``IterTimerHook``."""

    priority = 55  # after IterTimerHook (NORMAL), before LoggerHook (BELOW_NORMAL)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not data_batch or 'image' not in data_batch:
            return
        seconds = runner.message_hub.get_scalar('train/time').current()
        if seconds > 0:
            runner.message_hub.update_scalar('train/images_per_s', len(data_batch['image']) * runner.world_size
                                             / seconds)


@HOOKS.register_module()
class TeacherEvalHook(Hook):
    """Asserts, once per epoch, that the teacher is frozen and in eval mode (guards against wrappers that
    call ``.train()`` on submodules)."""

    def before_train_epoch(self, runner) -> None:
        model = _unwrap(runner.model)
        if model.teacher.training or any(p.requires_grad for p in model.teacher.parameters()):
            raise RuntimeError('the CLIPSelf teacher must stay frozen and in eval mode')

