"""Hooks of clipself training runs: export of the distilled CLIP, a stop on non-finite losses, throughput,
the frozen-teacher guard. Registered in the ``clipself`` scope (``clipself.NonFiniteLossHook`` from mmdet
configs)."""
import math
import os
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from ..models.checkpoint import save_safetensors
from ..registry import HOOKS
from .model_wrappers import unwrap_model


@HOOKS.register_module()
class ExportCLIPHook(Hook):
    """With every checkpoint, also write the ensemble ``alpha * student + (1 - alpha) * teacher`` as
    ``{work_dir}/{out_dir}/epoch_{E}.safetensors`` (or ``iter_{I}``), loadable by ``build_clip`` and by the
    detector / segmenter configs. Runs where checkpoints are written (rank 0)."""

    priority = 'LOW'

    def __init__(self, out_dir: str = 'exported', alpha: Optional[float] = None):
        self.out_dir, self.alpha = out_dir, alpha

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = unwrap_model(runner.model)
        meta = checkpoint.setdefault('meta', {})
        meta['clip_model_name'] = model.model_name
        meta['clip_alpha'] = model.alpha
        meta['clip_dense_mode'] = model.student.dense_mode.to_dict()
        by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)
        name = f"epoch_{meta.get('epoch', runner.epoch)}" if by_epoch else f"iter_{meta.get('iter', runner.iter)}"
        path = os.path.join(runner.work_dir, self.out_dir, name + '.safetensors')
        alpha = model.alpha if self.alpha is None else self.alpha
        save_safetensors(model.ensemble_state_dict(alpha), path, model_name=model.model_name,
                         extra=dict(alpha=alpha, epoch=meta.get('epoch'), iter=meta.get('iter'),
                                    **model.export_metadata()))
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
        model = unwrap_model(runner.model)
        if model.teacher.training or any(p.requires_grad for p in model.teacher.parameters()):
            raise RuntimeError('the CLIPSelf teacher must stay frozen and in eval mode')
