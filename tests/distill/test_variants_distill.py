"""CLIPSelf distillation with the tower options: they train (whatever blocks train), the teacher stays the
unchanged CLIP, and the student/teacher ensemble still blends key by key."""
import glob
import os

import pytest
import torch

from clipself.distill.model import CLIPSelf
from clipself.models import build_clip

OPTIONS = dict(residual_attention=dict(alpha=0.8), conv_branch=dict(blocks=[0, 2]))


def _batch(n_img=2, s=64, t=64):
    g = torch.Generator().manual_seed(0)
    boxes = torch.tensor([[0., 0., 32., 32.], [16., 8., 64., 40.], [8., 8., 24., 56.]])
    return dict(image=[torch.randint(0, 255, (3, s, s), dtype=torch.uint8, generator=g) for _ in range(n_img)],
                boxes=[boxes] * n_img,
                crops=[torch.randint(0, 255, (3, 3, t, t), dtype=torch.uint8, generator=g) for _ in range(n_img)])


def test_a_distillation_step_trains_the_options_and_the_teacher_stays_the_clip():
    torch.manual_seed(0)
    model = CLIPSelf(clip=dict(model_name='EVA02-Tiny-8', **OPTIONS), train_blocks=[1])
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    prefix = 'student.clip.visual.clipself_variants.'
    assert prefix + 'residual.alpha' in trainable
    assert prefix + 'conv.2.layers.6.weight' in trainable and prefix + 'conv.0.layers.0.weight' in trainable
    assert not any(n.startswith('teacher.') for n in trainable)
    assert model.teacher.variants.residual.alpha.item() == 1.0

    torch.manual_seed(0)
    plain = build_clip('EVA02-Tiny-8')
    crops = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model.teacher.encode_image(crops), plain.encode_image(crops))

    variants = model.student.variants
    before = {n: p.detach().clone() for n, p in variants.named_parameters()}
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    opt.zero_grad()
    batch = _batch()
    loss = model.loss(batch['image'], batch['boxes'], batch['crops'])['loss_cosine']
    loss.backward()
    opt.step()
    after = dict(variants.named_parameters())
    assert not torch.equal(after['residual.alpha'], before['residual.alpha'])
    for b in ('0', '2'):
        key = f'conv.{b}.layers.6.weight'
        assert before[key].abs().sum() == 0 and after[key].abs().sum() > 0  # zero init, then trained
    assert model.teacher.variants.residual.alpha.item() == 1.0
    mixed = model.ensemble_state_dict(0.7)
    key = 'visual.clipself_variants.residual.alpha'
    torch.testing.assert_close(mixed[key], 0.7 * after['residual.alpha'].detach() + 0.3)


CONFIGS = sorted(glob.glob(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                        'configs', 'variants', 'clipself_*.py')))


def test_the_variant_configs_exist():
    names = {os.path.basename(c) for c in CONFIGS}
    assert names == {'clipself_eva02-b16_coco-patches_6e_revit.py', 'clipself_eva02-b16_coco-patches_6e_conv-branch.py',
                     'clipself_tiny_synthetic_revit.py', 'clipself_tiny_synthetic_conv-branch.py'}


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_variant_config_loads_and_builds(path):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import clipself.engine  # noqa: F401  (registers CLIPSelf)
    from clipself.registry import MODELS
    cfg = Config.fromfile(path)
    clip = cfg.model.clip.to_dict()
    options = {k: clip[k] for k in ('residual_attention', 'conv_branch') if k in clip}
    assert len(options) == 1
    if 'eva02-b16' in path:
        assert clip['model_name'] == 'EVA02-B-16' and clip['pretrained'].startswith('checkpoints/')
        if 'conv_branch' in options:
            assert options['conv_branch']['blocks'] == list(range(11))  # every block but the attention-free last
            options['conv_branch']['blocks'] = [0, 1]  # the tiny tower has 3 blocks
        else:
            assert options['residual_attention'] == dict(alpha=1.0) and cfg.model.grad_checkpointing
    cfg.model.clip = dict(model_name='EVA02-Tiny-8', pretrained=None, **options)
    with DefaultScope.overwrite_default_scope('clipself'):
        model = MODELS.build(cfg.model)
    assert model.student.variants is not None and model.student.variant_parameters()
    assert all(p.requires_grad for p in model.student.variant_parameters())
    if 'residual_attention' in options:  # the config's optimiser keeps weight decay off alpha
        from mmengine.optim import build_optim_wrapper
        with DefaultScope.overwrite_default_scope('clipself'):
            optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
        alpha = model.student.variants.residual.alpha
        group, = [g for g in optimizer.param_groups if any(p is alpha for p in g['params'])]
        assert group['weight_decay'] == 0
