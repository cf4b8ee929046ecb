"""DeCLIP-style context distillation (clipself.distill.context): the loss on hand-computed cases, both teachers (the
CLIP's own affinity, a DINOv2 from a local file) and their errors, and a CLIPSelf step with the context loss."""
import math

import pytest
import torch

from clipself.distill import CLIPSelf
from clipself.distill.context import (DINOv2Teacher, SelfAffinityTeacher, build_context_teacher, context_loss,
                                      cosine_affinity, student_affinity)
from clipself.distill.export import export_clip
from clipself.models import CheckpointError, build_clip
from clipself.models.dense_mode import DenseMode

TINY_DINO = dict(arch='vit_small_patch14_reg4_dinov2', model_kwargs=dict(depth=2, embed_dim=32, num_heads=2))


def test_loss_on_a_hand_computed_case():
    # three tokens: (1, 0), (1, 1), (0, 1): cosines 1/sqrt(2) between neighbours, 0 between the ends
    student = cosine_affinity(torch.tensor([[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]))
    c = 1 / math.sqrt(2)
    torch.testing.assert_close(student[0], torch.tensor([[1, c, 0], [c, 1, c], [0, c, 1]]))
    teacher = torch.ones(1, 3, 3)
    # rows of teacher - student: (0, 1 - c, 1), (1 - c, 0, 1 - c), (0, 1 - c, 1)
    end, middle = math.sqrt((1 - c) ** 2 + 1), math.sqrt(2 * (1 - c) ** 2)
    expected = (2 * end + middle) / 3
    torch.testing.assert_close(context_loss(student, teacher), torch.tensor(expected))
    # averaged over images too; zero for equal affinities
    two = torch.stack([student[0], teacher[0]])
    torch.testing.assert_close(context_loss(two, torch.cat([teacher, teacher])), torch.tensor(expected / 2))
    assert context_loss(teacher, teacher) == 0
    with pytest.raises(ValueError, match="student's grid"):
        context_loss(torch.ones(1, 4, 4), teacher)


def test_csa_affinity_is_the_mean_of_the_q_and_k_affinities():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 5, 8, generator=g), torch.randn(2, 5, 8, generator=g)
    torch.testing.assert_close(student_affinity([q, k]), (cosine_affinity(q) + cosine_affinity(k)) / 2)
    torch.testing.assert_close(student_affinity([q]), cosine_affinity(q))
    with pytest.raises(ValueError, match='decoupled dense mode'):
        student_affinity([])


def test_self_teacher_is_the_clips_token_affinity_after_the_block():
    torch.manual_seed(0)
    clip = build_clip('EVA02-Tiny-8')
    images = torch.randint(0, 256, (2, 3, 70, 101), dtype=torch.uint8)
    teacher = SelfAffinityTeacher(clip=clip, block=-2)
    assert teacher.block == 1 and not list(teacher.parameters())  # the CLIP is not copied or owned
    aff = teacher(images, (8, 12))
    _, grid, outs = clip.tower.forward_tokens(clip.normalize_pixels(images), dense=False, out_indices=[1])
    assert grid == (8, 12) and aff.shape == (2, 96, 96)
    torch.testing.assert_close(aff, cosine_affinity(outs[0][:, 1:]), atol=1e-6, rtol=1e-6)
    for bad in (3, -4, 1.0):
        with pytest.raises(ValueError, match='outside the 3 blocks'):
            SelfAffinityTeacher(clip=clip, block=bad)
    with pytest.raises(ValueError, match='needs block'):
        build_context_teacher(dict(type='self'), clip)
    with pytest.raises(ValueError, match='must be one of'):
        build_context_teacher(dict(type='sam'), clip)


def _tiny_dino_file(tmp_path, name='dino.safetensors', **kwargs):
    import timm
    from safetensors.torch import save_file
    torch.manual_seed(1)
    model = timm.create_model(TINY_DINO['arch'], pretrained=False, num_classes=0, dynamic_img_size=True,
                              **dict(TINY_DINO['model_kwargs'], **kwargs))
    path = str(tmp_path / name)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    return model, path


def test_dinov2_teacher_loads_a_local_file_and_sees_the_students_grid(tmp_path):
    model, path = _tiny_dino_file(tmp_path)
    teacher = DINOv2Teacher(weights=path, **TINY_DINO)
    assert torch.equal(teacher.model.pos_embed, model.pos_embed) and not teacher.train().model.training
    assert not any(p.requires_grad for p in teacher.parameters())
    images = torch.randint(0, 256, (2, 3, 70, 101), dtype=torch.uint8)  # student patch 8: an 8 x 12 grid
    aff = teacher(images, (8, 12), (8, 8))
    assert aff.shape == (2, 96, 96)
    # by hand: the covered 64 x 96 pixels resized to 112 x 168 (14 px patches), ImageNet mean/std, prefix dropped
    x = torch.nn.functional.interpolate(images[..., :64, :96].float() / 255, size=(112, 168), mode='bilinear',
                                        align_corners=False, antialias=True)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    with torch.no_grad():
        tokens = model.eval().forward_features((x - mean) / std)
    assert model.num_prefix_tokens == 5  # CLS + 4 registers
    torch.testing.assert_close(aff, cosine_affinity(tokens[:, 5:]), atol=1e-5, rtol=1e-5)
    # the original DINOv2 release layout (register_tokens, a CLS position in pos_embed, mask_token) loads through
    # timm's converter
    sd = dict(model.state_dict())
    cls_pos = torch.randn(1, 1, 32)
    sd['register_tokens'] = sd.pop('reg_token')
    sd['cls_token'] = sd['cls_token'] - cls_pos
    sd['pos_embed'] = torch.cat([cls_pos, sd['pos_embed']], dim=1)
    sd['mask_token'] = torch.zeros(1, 32)
    torch.save(sd, tmp_path / 'release.pth')
    released = DINOv2Teacher(weights=str(tmp_path / 'release.pth'), **TINY_DINO)
    torch.testing.assert_close(released(images, (8, 12), (8, 8)), aff)


def test_dinov2_teacher_errors(tmp_path):
    _, other = _tiny_dino_file(tmp_path, 'wider.safetensors', embed_dim=48, num_heads=2)
    with pytest.raises(CheckpointError, match='do not fit vit_small_patch14_reg4_dinov2'):
        DINOv2Teacher(weights=other, **TINY_DINO)
    clip = build_clip('EVA02-Tiny-8')
    from clipself.models import save_safetensors
    not_dino = save_safetensors(clip.clip, str(tmp_path / 'clip.safetensors'), model_name='EVA02-Tiny-8')
    with pytest.raises(CheckpointError, match='another architecture'):
        DINOv2Teacher(weights=not_dino, **TINY_DINO)
    with pytest.raises(FileNotFoundError, match='never downloads'):
        DINOv2Teacher(weights=str(tmp_path / 'missing.pth'), **TINY_DINO)
    with pytest.raises(ValueError, match='needs weights'):
        DINOv2Teacher(arch='vit_base_patch14_reg4_dinov2')
    with pytest.raises(ValueError, match='not a timm DINOv2 model'):
        DINOv2Teacher(arch='vit_base_patch16_224', allow_random=True)


def _batch(seed=0, size=96):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (2, 3, size, size), dtype=torch.uint8, generator=g)
    boxes = [torch.tensor([[0.0, 0.0, 40.0, 40.0], [10.0, 20.0, 90.0, 70.0]]), torch.tensor([[5.0, 5.0, 60.0, 90.0]])]
    crops = torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8, generator=g)
    return images, boxes, crops


@pytest.mark.parametrize('mode, teacher', [('qq', dict(type='self', block=1)),
                                           ('csa', dict(type='dinov2', allow_random=True, **TINY_DINO))])
def test_a_distillation_step_with_the_context_loss(mode, teacher):
    torch.manual_seed(0)
    model = CLIPSelf(clip=dict(model_name='EVA02-Tiny-8', dense_mode=mode), context_teacher=teacher).train()
    assert model.student.dense_mode == DenseMode(mode) and model.teacher.dense_mode == DenseMode()
    assert not any(k.startswith('context_teacher') for k in model.state_dict())  # DINOv2 stays out of checkpoints
    images, boxes, crops = _batch()
    losses = model.loss(images, boxes, crops)
    assert set(losses) == {'loss_cosine', 'loss_context', 'num_regions'}
    assert 0 < losses['loss_context'].item() < 0.1 * 2 * math.sqrt(144)  # 12 x 12 grid: |row diff| <= 2 sqrt(N)
    sum(v for k, v in losses.items() if k.startswith('loss_')).backward()
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for _, p in trainable)  # nothing DDP would wait for
    blk = model.student.tower.blocks[-1]
    assert not any(p.requires_grad for p in blk.mlp.parameters())  # the decoupled block has no MLP
    assert blk.attn.q_proj.weight.requires_grad and blk.attn.k_proj.weight.requires_grad == (mode == 'csa')
    assert not any(p.requires_grad for p in model.teacher.parameters())
    if mode != 'qq':
        return
    # the context term alone pulls the student's affinity toward the teacher's
    model.loss_cosine_weight, model.loss_context_weight = 0.0, 1.0
    opt = torch.optim.Adam([p for _, p in trainable], lr=1e-3)
    before = model.loss(images, boxes, crops)['loss_context'].item()
    for _ in range(2):
        opt.zero_grad()
        model.loss(images, boxes, crops)['loss_context'].backward()
        opt.step()
    assert model.loss(images, boxes, crops)['loss_context'].item() < before


def test_context_off_is_todays_clipself():
    torch.manual_seed(0)
    model = CLIPSelf(clip=dict(model_name='EVA02-Tiny-8')).train()
    images, boxes, crops = _batch()
    losses = model.loss(images, boxes, crops)
    assert set(losses) == {'loss_cosine', 'num_regions'} and model.export_metadata() == {}
    blk = model.student.tower.blocks[-1]
    frozen = {n for n, p in model.student.named_parameters() if not p.requires_grad and '.blocks.2.' in n}
    assert frozen == {n for n, _ in model.student.named_parameters()
                      if '.blocks.2.attn.q_proj' in n or '.blocks.2.attn.k_proj' in n}
    assert blk.mlp.fc2.weight.requires_grad
    with pytest.raises(ValueError, match="set clip.dense_mode to 'qq' or 'csa'"):
        CLIPSelf(clip=dict(model_name='EVA02-Tiny-8'), context_teacher=dict(type='self', block=1))


def test_the_export_records_the_mode_and_downstream_builds_run_it(tmp_path):
    torch.manual_seed(0)
    model = CLIPSelf(clip=dict(model_name='ViT-Tiny-8', dense_mode='csa'), context_teacher=dict(type='self', block=0))
    assert model.export_metadata() == {'dense_mode': {'kind': 'csa', 'scale': True, 'rope': True}}
    path = export_clip(model.state_dict(), str(tmp_path / 'e.safetensors'), model_name=model.model_name, alpha=0.7,
                       dense_mode=model.student.dense_mode.to_dict())
    clip = build_clip('ViT-Tiny-8', path)
    assert clip.dense_mode == DenseMode('csa')
    with pytest.raises(CheckpointError, match='distilled with dense_mode csa'):
        build_clip('ViT-Tiny-8', path, dense_mode='qq')
