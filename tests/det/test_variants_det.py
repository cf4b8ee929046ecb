"""ExMobileViT's early-feature shortcut in F-ViT's RoI classifier: zero-initialised (the detector's outputs are
unchanged at init), trains, is checked against the backbone at build time, and its configs build and run."""
import copy
import os

import pytest
import torch
from mmengine.config import Config

from .tiny import ROOT, batch, build, loss_of, predict, sample, tiny_model_cfg, total

VARIANTS = os.path.join(ROOT, 'configs', 'variants')
SHORTCUT = dict(blocks=[0, 1], in_channels=64, channels=16)


@pytest.fixture(scope='module')
def cfgs(tmp_path_factory):
    cfg = Config.fromfile(os.path.join(VARIANTS, 'fvit_tiny_synthetic_early-shortcut.py'))
    with_shortcut = tiny_model_cfg(cfg.model, str(tmp_path_factory.mktemp('emb')))
    plain = copy.deepcopy(with_shortcut)
    del plain['roi_head']['bbox_head']['early_shortcut']
    return plain, with_shortcut


def _data():
    return batch([sample(61, 47, [[3, 4, 30, 40], [20, 10, 45, 33]], [0, 1], seed=1),
                  sample(64, 64, [[8, 8, 40, 50]], [2], seed=2)])


def test_zero_initialised_shortcut_leaves_the_detector_unchanged(cfgs):
    plain_cfg, cfg = cfgs
    torch.manual_seed(0)
    plain = build(plain_cfg)
    model = build(cfg)
    missing, unexpected = model.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all('early_shortcut' in k for k in missing)
    assert model.roi_head.bbox_head.early_shortcut.fuse.weight.abs().sum() == 0
    data = _data()
    torch.manual_seed(1)
    a = loss_of(plain, data)
    torch.manual_seed(1)
    b = loss_of(model, data)
    assert torch.equal(a['loss_cls'], b['loss_cls']) and torch.equal(a['loss_bbox'], b['loss_bbox'])
    for p, q in zip(predict(plain, data), predict(model, data)):
        assert torch.equal(p.pred_instances.scores, q.pred_instances.scores)
        assert torch.equal(p.pred_instances.bboxes, q.pred_instances.bboxes)


def test_a_training_step_trains_the_shortcut(cfgs):
    torch.manual_seed(0)
    model = build(cfgs[1])
    shortcut = model.roi_head.bbox_head.early_shortcut
    assert shortcut.blocks == (0, 1) and shortcut.stride == 8
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    t = total(loss_of(model, _data()))
    t.backward()
    assert shortcut.fuse.weight.grad.abs().sum() > 0
    opt.step()
    assert shortcut.fuse.weight.abs().sum() > 0
    out = predict(model, _data())  # and predicts with it
    assert all(len(r.pred_instances.scores) == len(r.pred_instances.bboxes) for r in out)


def test_shortcut_is_checked_against_the_backbone(cfgs):
    cfg = copy.deepcopy(cfgs[1])
    cfg['roi_head']['bbox_head']['early_shortcut'] = dict(SHORTCUT, blocks=[0, 3])
    with pytest.raises(ValueError, match='block 3 does not exist'):
        build(cfg)
    cfg['backbone']['out_indices'] = [1, 1, 1, 2]
    cfg['roi_head']['bbox_head']['early_shortcut'] = dict(SHORTCUT, blocks=[0])
    with pytest.raises(ValueError, match=r'\[0\] are not tapped by the backbone'):
        build(cfg)
    cfg = copy.deepcopy(cfgs[1])
    cfg['roi_head']['bbox_head']['early_shortcut'] = dict(SHORTCUT, in_channels=32)
    with pytest.raises(ValueError, match='in_channels=32, but the tower has width 64'):
        build(cfg)
    cfg['roi_head']['bbox_head']['early_shortcut'] = dict(SHORTCUT, blocks=[])
    with pytest.raises(ValueError, match='non-empty list'):
        build(cfg)


def test_the_full_size_config_builds_with_a_tiny_tower(tmp_path):
    cfg = Config.fromfile(os.path.join(
        VARIANTS, 'fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_clipself-patches_early-shortcut.py'))
    head = cfg.model.roi_head.bbox_head
    assert head.early_shortcut == dict(blocks=[3, 5], in_channels=768, channels=128)
    assert set(head.early_shortcut['blocks']) <= set(cfg.model.backbone.out_indices)
    m = tiny_model_cfg(cfg.model, str(tmp_path))
    m['roi_head']['bbox_head']['early_shortcut'] = SHORTCUT  # the tiny tower: 3 blocks of width 64
    model = build(m)
    assert torch.isfinite(total(loss_of(model, _data())))


def test_fvit_on_a_clip_distilled_with_tower_options(tmp_path):
    """The backbone builds the CLIP with the options it was distilled with, so the exported file (which holds the
    options' weights) loads, and the detector runs on it."""
    from clipself.models import build_clip, save_safetensors
    cfg = Config.fromfile(os.path.join(VARIANTS, 'fvit_tiny_synthetic_conv-branch.py'))
    options = cfg.model.backbone.tower_options.to_dict()
    assert options == dict(conv_branch=dict(blocks=[0, 1]))
    torch.manual_seed(0)
    clip = build_clip('EVA02-Tiny-8', **options)
    with torch.no_grad():
        torch.nn.init.normal_(clip.variants.conv['1'].layers[-1].weight, std=0.1)
    path = save_safetensors(clip.clip, str(tmp_path / 'distilled.safetensors'), model_name='EVA02-Tiny-8')
    m = tiny_model_cfg(cfg.model, str(tmp_path))
    m['backbone'].update(pretrained=path, tower_options=options)
    model = build(m)
    assert torch.equal(model.backbone.clip.variants.conv['1'].layers[-1].weight,
                       clip.variants.conv['1'].layers[-1].weight)
    assert torch.isfinite(total(loss_of(model, _data())))
    m['backbone'].pop('tower_options')
    with pytest.raises(Exception, match='tower options'):
        build(m)


def test_the_demo_config_builds_on_the_demo_clip():
    """configs/variants/fvit_demo_synthetic_early-shortcut.py (tools/variants_table.py --fvit) on the shipped demo
    CLIP: its blocks are tapped by the demo's backbone and the detector computes its losses."""
    cfg = Config.fromfile(os.path.join(VARIANTS, 'fvit_demo_synthetic_early-shortcut.py'))
    m = cfg.model.to_dict()
    m['backbone']['pretrained'] = os.path.join(ROOT, m['backbone']['pretrained'])
    torch.manual_seed(0)
    model = build(m)
    assert model.roi_head.bbox_head.early_shortcut.blocks == (1, 2)
    data = batch([sample(192, 192, [[10, 20, 70, 90]], [1], seed=3)])
    assert torch.isfinite(total(loss_of(model, data)))
