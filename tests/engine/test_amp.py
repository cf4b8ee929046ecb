"""The ``amp`` config switch resolves to the right optimiser wrapper per device, and the GPU training configs
default to ``amp='auto'``."""
import pytest
import torch
from mmengine.config import Config

from clipself.engine.amp import resolve_amp


def _cfg(**kw):
    return Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4)), **kw))


def _fake_cuda(monkeypatch, available, bf16=True):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: available)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda *a, **k: bf16)


@pytest.mark.parametrize('setting', ['auto', False, None])
def test_cpu_keeps_the_plain_wrapper(monkeypatch, setting):
    _fake_cuda(monkeypatch, False)
    cfg = _cfg() if setting is None else _cfg(amp=setting)
    assert resolve_amp(cfg) is False
    assert cfg.optim_wrapper.type == 'OptimWrapper' and 'dtype' not in cfg.optim_wrapper


def test_amp_true_without_cuda_fails_early(monkeypatch):
    _fake_cuda(monkeypatch, False)
    with pytest.raises(SystemExit, match='CUDA'):
        resolve_amp(_cfg(amp=True))


@pytest.mark.parametrize('bf16,dtype,scale', [(True, 'bfloat16', None), (False, 'float16', 'dynamic')])
def test_auto_on_cuda(monkeypatch, bf16, dtype, scale):
    _fake_cuda(monkeypatch, True, bf16)
    cfg = _cfg(amp='auto')
    assert resolve_amp(cfg) is True
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.optim_wrapper.dtype == dtype
    assert cfg.optim_wrapper.get('loss_scale') == scale
    assert cfg.optim_wrapper.optimizer.lr == 1e-4  # the rest of the wrapper is kept


def test_switched_off_on_cuda(monkeypatch):
    _fake_cuda(monkeypatch, True)
    cfg = _cfg(amp='auto')
    cfg.merge_from_dict({'amp': False})  # --cfg-options amp=False
    assert resolve_amp(cfg) is False and cfg.optim_wrapper.type == 'OptimWrapper'


def test_bad_setting():
    with pytest.raises(ValueError, match='amp'):
        resolve_amp(_cfg(amp='yes'))


@pytest.mark.parametrize('path', ['configs/clipself/clipself_eva02-b16_coco-patches_6e.py',
                                  'configs/clipself/clipself_eva02-l14-336_coco-patches_6e.py',
                                  'configs/fvit/fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_original.py',
                                  'configs/fvit/fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis_clipself-patches.py'])
def test_gpu_configs_default_to_auto(path):
    cfg = Config.fromfile(path)
    assert cfg.amp == 'auto'
    assert cfg.train_dataloader.pin_memory and cfg.train_dataloader.persistent_workers


def test_prepare_config_drops_pin_memory_without_cuda(tmp_path):
    """Pinned host memory serves a GPU only: on a machine without CUDA the loaders get pin_memory=False (torch
    would warn about it), with CUDA the config's value is kept."""
    import os

    import torch

    from clipself.engine.launch import prepare_config
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    config = os.path.join(root, 'configs', 'fvit', 'fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_original.py')
    cfg = prepare_config(config, work_dir=str(tmp_path))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].pin_memory is torch.cuda.is_available()
