"""Zero-shot region classification of a DeCLIP-style CLIP runs the decoupled last block it was distilled with: from
its export (build_clip reads the record) and from a training checkpoint (tools/test.py's routing reads the run's
meta)."""
import os

import pytest
import torch
from mmengine.config import Config

from clipself.engine.checkpoints import route_test_checkpoint
from clipself.engine.region_eval import CLIPRegionClassifier
from clipself.models import CheckpointError
from tests.last_block_formulas import write_decoupled_export

TINY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'configs', 'clipself',
                    'region-cls_tiny_synthetic.py')


def test_an_export_is_evaluated_with_its_block(tmp_path):
    clip, path = write_decoupled_export(str(tmp_path / 'e.safetensors'), 'qq')
    evaluator = CLIPRegionClassifier(clip=dict(model_name='EVA02-Tiny-8', pretrained=path), cache_dir=None)
    assert str(evaluator.clip_model.dense_mode) == 'qq'
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(evaluator.clip_model.encode_dense(x), clip.encode_dense(x))


def test_a_training_checkpoint_routes_its_block(tmp_path):
    cfg = Config.fromfile(TINY)
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save({'meta': {'clip_dense_mode': {'kind': 'csa', 'scale': True, 'rope': True}}, 'state_dict': {}}, ckpt)
    route_test_checkpoint(cfg, str(ckpt))
    assert cfg.load_from == str(ckpt) and cfg.model.clip.dense_mode == {'kind': 'csa', 'scale': True, 'rope': True}
    cfg = Config.fromfile(TINY)
    cfg.model.clip.dense_mode = 'qq'
    with pytest.raises(CheckpointError, match='distilled with dense_mode csa'):
        route_test_checkpoint(cfg, str(ckpt))
    cfg = Config.fromfile(TINY)  # a CLIPSelf run of the attention-free block changes nothing
    torch.save({'meta': {'clip_dense_mode': {'kind': 'value'}}, 'state_dict': {}}, ckpt)
    route_test_checkpoint(cfg, str(ckpt))
    assert 'dense_mode' not in cfg.model.clip
