"""``FrozenAwareOptimWrapperConstructor``: mmengine's default constructor without a warning per frozen parameter.

With a ``paramwise_cfg`` (the distillation and CAT-Seg schedules set one), mmengine's
``DefaultOptimWrapperConstructor`` logs one WARNING line per parameter that does not require a gradient: a frozen
CLIP teacher alone is hundreds of lines of a console a user reads. Frozen parameters are left out of the
optimizer on purpose here, so this constructor builds exactly what the default one builds and logs one INFO line
instead (how many frozen tensors and elements were left out).
"""
import logging

from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

_FROZEN_MESSAGE = 'is skipped since its requires_grad=False'


class _DropFrozenWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _FROZEN_MESSAGE not in record.getMessage()


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class FrozenAwareOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``DefaultOptimWrapperConstructor`` (same parameter groups, same options) that summarises the frozen
    parameters it leaves out in one line instead of one warning each."""

    def __call__(self, model):
        logger = MMLogger.get_current_instance()
        quiet = _DropFrozenWarnings()
        logger.addFilter(quiet)
        try:
            wrapper = super().__call__(model)
        finally:
            logger.removeFilter(quiet)
        frozen = [p for p in model.parameters() if not p.requires_grad]
        if frozen:
            print_log(f'optimizer: {len(frozen)} frozen parameter tensors '
                      f'({sum(p.numel() for p in frozen) / 1e6:.2f} M values) left out', logger='current')
        return wrapper
