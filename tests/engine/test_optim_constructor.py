"""FrozenAwareOptimWrapperConstructor builds what mmengine's default constructor builds, and logs one line about
the frozen parameters instead of one warning each."""
import logging

import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper

import clipself.engine  # noqa: F401  (registers the constructor)


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.teacher = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        self.student = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        self.teacher.requires_grad_(False)


def _groups(constructor, model):
    cfg = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.1),
               paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
    if constructor:
        cfg['constructor'] = constructor
    groups = build_optim_wrapper(model, cfg).optimizer.param_groups
    return [([id(p) for p in g['params']], g['lr'], g['weight_decay']) for g in groups]


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        if 'frozen' in record.getMessage() or 'requires_grad' in record.getMessage():
            self.messages.append(record.getMessage())


def test_same_groups_one_summary_line():
    logger = MMLogger.get_instance('test_optim_constructor')
    records = _Records()
    logger.addHandler(records)
    model = _Model()
    try:
        default = _groups(None, model)
        n_default = len(records.messages)
        ours = _groups('FrozenAwareOptimWrapperConstructor', model)
    finally:
        logger.removeHandler(records)
    assert ours == default and len(ours) == 4  # the student's weight, bias, norm weight, norm bias
    assert n_default == 4 and all('requires_grad=False' in m for m in records.messages[:n_default])
    assert records.messages[n_default:] == ['optimizer: 4 frozen parameter tensors (0.00 M values) left out']
