"""F-ViT on a DeCLIP-style export: the configs load the export of their distillation config, the backbone runs the
decoupled last block the file records (last tap and test-time CLIP ensemble), and the detector trains and predicts
on it with a tiny tower; a config that asks for another last block than the file's is an error."""
import glob
import os

import pytest
import torch
from mmengine.config import Config

from tests.last_block_formulas import write_decoupled_export

from .tiny import ROOT, batch, build, loss_of, predict, sample, tiny_model_cfg, total

DECLIP = os.path.join(ROOT, 'configs', 'declip')
CONFIGS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(DECLIP, 'fvit_*.py')))


@pytest.fixture(scope='module')
def export(tmp_path_factory):
    """A tiny EVA02 CLIP 'distilled' with the 'qq' block, exported as the distillation run writes it."""
    return write_decoupled_export(str(tmp_path_factory.mktemp('declip') / 'epoch_6.safetensors'), 'qq')


def _data():
    return batch([sample(61, 47, [[3, 4, 30, 40], [20, 10, 45, 33]], [0, 1], seed=1),
                  sample(64, 64, [[8, 8, 40, 50]], [2], seed=2)])


def test_the_configs_exist_and_load_their_distillation_export():
    assert CONFIGS == ['fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_declip.py',
                       'fvit_eva02-l14-336_upsample-fpn_bs64-3e_ov-coco_declip.py', 'fvit_tiny_synthetic_declip.py']
    for name in CONFIGS:
        cfg = Config.fromfile(os.path.join(DECLIP, name))
        pretrained = cfg.model.backbone.pretrained
        run = pretrained.split('/')[1]
        assert pretrained == f'work_dirs/{run}/exported/epoch_{3 if "tiny" in name else 6}.safetensors'
        assert os.path.isfile(os.path.join(DECLIP, run + '.py'))  # the distillation config that writes it
        if 'tiny' not in name:  # the published F-ViT recipe of its backbone, unchanged
            base = Config.fromfile(os.path.join(ROOT, 'configs', 'fvit', name.replace('_declip', '_original')))
            base.model.backbone.pretrained = pretrained
            assert cfg.model.to_dict() == base.model.to_dict()


@pytest.mark.parametrize('name', CONFIGS)
def test_fvit_runs_the_recorded_block(name, export, tmp_path):
    clip, path = export
    cfg = Config.fromfile(os.path.join(DECLIP, name))
    m = tiny_model_cfg(cfg.model, str(tmp_path))
    m['backbone'].update(pretrained=path)
    model = build(m)
    backbone = model.backbone
    assert str(backbone.clip.dense_mode) == 'qq'
    x = torch.randn(2, 3, 48, 64)
    taps, dense = backbone(x, with_dense=True)
    with torch.no_grad():  # the last tap and the ensemble's dense map are the decoupled block's
        tokens, grid, _ = clip.tower.forward_tokens(x, dense=True, last_block=clip.dense_block)
        torch.testing.assert_close(dense, clip.dense_head(tokens[:, 1:], grid))
        torch.testing.assert_close(taps[-1], tokens[:, 1:].transpose(1, 2).reshape(2, -1, *grid))
        assert (dense - clip.dense_head(clip.tower.forward_tokens(x, dense=True)[0][:, 1:], grid)).abs().max() > 1e-3
    if 'tiny' in name:  # the detector around it is the published one (tests/det/test_configs.py runs those)
        assert torch.isfinite(total(loss_of(model, _data())))
        assert len(predict(model, _data())[0].pred_instances) > 0


def test_a_config_asking_for_another_block_is_an_error(export, tmp_path):
    _, path = export
    cfg = Config.fromfile(os.path.join(DECLIP, 'fvit_tiny_synthetic_declip.py'))
    m = tiny_model_cfg(cfg.model, str(tmp_path))
    m['backbone'].update(pretrained=path, tower_options=dict(dense_mode='value'))
    with pytest.raises(Exception, match="distilled with dense_mode qq"):
        build(m)
