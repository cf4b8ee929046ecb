"""Segmentation on a DeCLIP-style export: the configs are the published protocol on the export of their distillation
config; the segmentor's default last block runs the decoupled block the file records, and a training-free variant in
its place is an error."""
import glob
import os

import pytest
import torch
from mmengine.config import Config

from tests.last_block_formulas import write_decoupled_export

from .helpers import ROOT, build, tiny_model_cfg

DECLIP = os.path.join(ROOT, 'configs', 'declip')
CONFIGS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(DECLIP, 'zeroshot_*.py')))


@pytest.fixture(scope='module')
def export(tmp_path_factory):
    return write_decoupled_export(str(tmp_path_factory.mktemp('declip') / 'epoch_6.safetensors'), 'csa')


def test_the_configs_are_the_protocol_on_the_distillation_export():
    assert CONFIGS == ['zeroshot_eva02-b16_voc21_declip.py', 'zeroshot_eva02-l14-336_voc21_declip.py']
    for name in CONFIGS:
        cfg = Config.fromfile(os.path.join(DECLIP, name))
        pretrained = cfg.model.clip.pretrained
        run = pretrained.split('/')[1]
        assert pretrained == f'work_dirs/{run}/exported/epoch_6.safetensors'
        assert os.path.isfile(os.path.join(DECLIP, run + '.py'))
        base = Config.fromfile(os.path.join(ROOT, 'configs', 'seg', name.replace('_declip', '')))
        base.model.clip.pretrained = pretrained
        assert cfg.model.to_dict() == base.model.to_dict() and cfg.model.last_block == 'maskclip'


@pytest.mark.parametrize('name', CONFIGS)
def test_the_segmentor_runs_the_recorded_block(name, export, tmp_path):
    clip, path = export
    m = tiny_model_cfg(Config.fromfile(os.path.join(DECLIP, name)).model, str(tmp_path))
    m['clip']['pretrained'] = path
    model = build(m)
    assert str(model.clip.dense_mode) == 'csa'
    x = torch.randn(1, 3, 40, 56)
    with torch.no_grad():
        torch.testing.assert_close(model.extract_feat(x), clip.encode_dense(x))
        seg = model._forward(x)
    assert seg.shape == (1, model.out_channels, 40, 56) and torch.isfinite(seg).all()
    m['last_block'] = 'sclip'
    with pytest.raises(ValueError, match="would replace the decoupled last block"):
        build(m)
