"""The shapes world's SigLIP-style tower: pre-training with the sigmoid loss, and the demo's tower option."""
import pytest
from safetensors import safe_open

from clipself.demo import run_demo
from clipself.demo.pretrain import clip_record, pretrain_tiny_clip
from clipself.models import build_clip


def test_sigmoid_pretraining_learns_the_logit_bias_and_records_the_loss(tmp_path):
    out = str(tmp_path / 'siglip.safetensors')
    figures = pretrain_tiny_clip(out, model_name='SigLIP-Tiny-8', loss='sigmoid', steps=3, batch_size=8, pool=16,
                                 lr=1e-2, log=lambda s: None)
    assert figures['loss'] == 'sigmoid' and clip_record(out)['loss'] == 'sigmoid'
    with safe_open(out, 'pt') as f:
        assert f.metadata()['model_name'] == 'SigLIP-Tiny-8'
    model = build_clip('SigLIP-Tiny-8', pretrained=out)
    assert model.logit_bias != -10.0  # trained (SigLIP's bias has a gradient only under the sigmoid loss)


def test_sigmoid_loss_needs_a_logit_bias_and_losses_are_named(tmp_path):
    with pytest.raises(ValueError, match='logit bias'):
        pretrain_tiny_clip(str(tmp_path / 'x.safetensors'), model_name='EVA02-Tiny-8', loss='sigmoid', steps=1,
                           pool=4, batch_size=2)
    with pytest.raises(ValueError, match='loss must be one of'):
        pretrain_tiny_clip(str(tmp_path / 'x.safetensors'), model_name='EVA02-Tiny-8', loss='softmax', steps=1)


def test_demo_tower_option_is_checked(tmp_path):
    with pytest.raises(ValueError, match='tower must be one of'):
        run_demo(str(tmp_path), tower='resnet', log=lambda s: None)


def test_fvit_config_of_the_siglip_tower(tmp_path):
    from mmengine.config import Config
    from clipself.demo.settings import TOWERS
    from clipself.demo.stages import fvit_tower_config
    cfg = Config.fromfile(fvit_tower_config(str(tmp_path), 'SigLIP-Small-8', TOWERS['siglip']['pixel_norm']))
    assert cfg.model.backbone.model_name == 'SigLIP-Small-8' and cfg.model.backbone.out_indices == [1, 2, 3, 5]
    assert cfg.model.data_preprocessor.mean == [127.5] * 3 and cfg.model.data_preprocessor.fixed_size == (192, 192)


def _variants_table():
    from ..tool_modules import load_tool
    return load_tool('variants_table')


def test_variants_table_siglip_row_distils_the_given_siglip_clip(tmp_path):
    """tools/variants_table.py --declip: the SigLIP-style row distils the SigLIP CLIP file it is given, and its F-ViT
    runs the tower's config; the other rows keep the demo's EVA02 CLIP."""
    from mmengine.config import Config
    from clipself.demo import DEMO_CLIP
    vt = _variants_table()
    assert vt.row_clip('clipself', str(tmp_path), 0) == ('EVA02-Small-8', DEMO_CLIP, None)
    clip = str(tmp_path / 'given.safetensors')
    open(clip, 'wb').close()  # an existing file is used as it is (never pre-trained over)
    model, path, config = vt.row_clip('siglip-style tower (CLIPSelf)', str(tmp_path), 0, siglip_clip=clip)
    assert (model, path) == ('SigLIP-Small-8', clip) and 'siglip-style tower (CLIPSelf)' in vt.DECLIP_ROWS
    cfg = Config.fromfile(config)
    assert cfg.model.backbone.model_name == 'SigLIP-Small-8' and cfg.model.data_preprocessor.mean == [127.5] * 3


def test_demo_recipe_follows_the_loss(tmp_path, monkeypatch):
    """pretrain_demo_clip without a recipe runs the loss's (the sigmoid loss needs a lower learning rate), each stage
    continuing from the last."""
    import clipself.demo.pretrain as pretrain
    calls = []
    monkeypatch.setattr(pretrain, 'pretrain_tiny_clip', lambda path, **kw: calls.append(kw) or {'steps': kw['steps']})
    pretrain.pretrain_demo_clip(str(tmp_path / 'x.safetensors'), model_name='SigLIP-Small-8', loss='sigmoid',
                                log=lambda s: None)
    assert [c['lr'] for c in calls] == [s['lr'] for s in pretrain.SIGMOID_RECIPE] and calls[0]['init'] is None
    assert all(c['loss'] == 'sigmoid' and c['init'] for c in calls[1:])
    calls.clear()
    pretrain.pretrain_demo_clip(str(tmp_path / 'y.safetensors'), log=lambda s: None)
    assert [c['steps'] for c in calls] == [s['steps'] for s in pretrain.DEMO_CLIP_RECIPE]
    with pytest.raises(ValueError, match='loss must be one of'):
        pretrain.pretrain_demo_clip(str(tmp_path / 'z.safetensors'), loss='softmax')


def test_variants_table_short_run_pre_trains_a_short_siglip_clip(tmp_path):
    """--short never starts the 2100-step recipe: a 10-step CLIP, under its own name (a later full run in the same
    folder does not take it for the recipe's)."""
    vt = _variants_table()
    model, path, _ = vt.row_clip('siglip-style tower (CLIPSelf)', str(tmp_path), 0, short=True)
    assert model == 'SigLIP-Small-8' and path == str(tmp_path / 'siglip_clip_short.safetensors')
    assert clip_record(path)['steps'] == 10 and clip_record(path)['loss'] == 'sigmoid'
