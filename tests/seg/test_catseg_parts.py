"""CAT-Seg's parts against direct computations: shifted-window attention stays inside its windows, the cost volume,
top-k class selection (per image; batched == one by one), the query/value-only fine-tuning under the config's
optimizer, CAT-Seg's sliding + global evaluation windows, VOC-20b's label merge, the BCE loss."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from clipself.seg.catseg_head import CATSegHead
from clipself.seg.catseg_segmentor import window_starts
from clipself.seg.cost_aggregation import GuidedWindowBlock, linear_attention, shifted_window_mask

from .helpers import build, load_config

TINY_HEAD = dict(hidden_dim=16, appearance_dim=8, text_dim=8, num_heads=2, window_size=4, decoder_dims=(16, 8),
                 guidance_dims=(16, 8), guidance_proj_dims=(4, 2))


def tiny_catseg(model_name='ViT-Tiny-8', classes=('sky', 'road, street', 'car', 'tree', 'person'), **kw):
    from clipself.seg.inference import CLIP_PREPROCESSOR
    cfg = dict(type='CATSegSegmentor', clip=dict(model_name=model_name), classes=list(classes), templates='single',
               clip_size=64, guidance_blocks=(0, 1), head=dict(TINY_HEAD, max_classes=8),
               test_cfg=dict(mode='slide_global', canvas=96, crop=64, stride=32), data_preprocessor=CLIP_PREPROCESSOR)
    cfg.update(kw)
    torch.manual_seed(0)
    return build(cfg)


def test_shifted_windows_only_mix_tokens_of_one_region():
    torch.manual_seed(0)
    block = GuidedWindowBlock(dim=8, guidance_dim=4, num_heads=2, window_size=4, shift=2).eval()
    x, g = torch.randn(1, 8, 8, 8), torch.randn(1, 8, 8, 4)
    base = block(x, g)
    x2 = x.clone()
    x2[0, 0, 0] += torch.randn(8)  # token (0, 0): rolled by -2 into the last window, with its 2x2 region only
    changed = (block(x2, g) - base).abs().sum(-1)[0] > 1e-6
    rows = torch.arange(8)
    region = (rows[:, None] < 2) & (rows[None, :] < 2)  # the unrolled 2x2 corner shares the window with nothing else
    assert torch.equal(changed, region)
    # unshifted: a perturbation stays inside its 4x4 window
    block0 = GuidedWindowBlock(dim=8, guidance_dim=4, num_heads=2, window_size=4, shift=0).eval()
    changed0 = (block0(x2, g) - block0(x, g)).abs().sum(-1)[0] > 1e-6
    assert torch.equal(changed0, (rows[:, None] < 4) & (rows[None, :] < 4))
    mask = shifted_window_mask((8, 8), 4, 2)
    assert mask.shape == (4, 16, 16) and mask[0].all() and not mask[3].all()


def test_linear_attention_matches_its_formula():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 5, 2, 3), torch.randn(2, 7, 2, 3), torch.randn(2, 7, 2, 3)
    fq, fk = F.elu(q) + 1, F.elu(k) + 1
    w = torch.einsum('nlhd,nshd->nhls', fq, fk)
    expect = torch.einsum('nhls,nshd->nlhd', w / w.sum(-1, keepdim=True), v)
    assert torch.allclose(linear_attention(q, k, v), expect, atol=1e-5)


def test_head_topk_per_image_and_batched_equals_one_by_one():
    torch.manual_seed(0)
    head = CATSegHead(clip_dim=12, vit_width=10, num_templates=3, feature_hw=(8, 8), max_classes=4, **TINY_HEAD).eval()
    dense, text = torch.randn(2, 12, 8, 8), F.normalize(torch.randn(7, 3, 12), dim=-1)
    maps = [torch.randn(2, 10, 8, 8), torch.randn(2, 10, 8, 8)]
    with torch.no_grad():
        out = head(dense, text, maps)
        one = torch.cat([head(dense[i:i + 1], text, [m[i:i + 1] for m in maps]) for i in range(2)])
    assert out.shape == (2, 7, 32, 32)
    assert torch.allclose(out, one, atol=1e-5)
    corr = CATSegHead.correlation(dense, text[None].expand(2, -1, -1, -1))  # shape: [2, 7, 3, 8, 8]
    assert torch.allclose(corr[0, :, 1, 2, 3], F.normalize(dense[0, :, 2, 3], dim=0) @ text[:, 1].T, atol=1e-6)
    for i in range(2):
        kept = set(corr[i].flatten(1).amax(1).topk(4).indices.tolist())
        dropped = (out[i] == -100).all(-1).all(-1)
        assert {c for c in range(7) if not dropped[c]} == kept


def test_window_starts_reproduce_catseg_windows():
    assert window_starts(640, 384, 256) == [0, 256]            # 2 x 2 windows, as CAT-Seg's unfold (overlap 1/3)
    assert window_starts(96, 64, 30) == [0, 30, 32]            # the last window flush with the end
    assert window_starts(50, 64, 32) == [0]


def test_only_query_and_value_rows_change_under_the_config_optimizer():
    cfg = load_config('catseg_vit-b16_coco-stuff_80k_original.py')
    for name in ('ViT-Tiny-8', 'EVA02-Tiny-8'):
        model = tiny_catseg(name)
        with DefaultScope.overwrite_default_scope('mmseg'):
            optim = build_optim_wrapper(model, dict(cfg.optim_wrapper, clip_grad=None))
        groups = {id(p): g for g in optim.optimizer.param_groups for p in g['params']}
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        x = torch.randn(2, 3, 64, 64)
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        samples = [SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 5, (1, 64, 64)))) for _ in range(2)]
        model.train()
        optim.update_params(model.loss(x, samples)['loss_bce'])
        last = model.clip.tower.num_blocks - 1
        for n, p in model.named_parameters():
            moved = not torch.equal(p.detach(), before[n])
            # the image tower's last block has no attention on the dense path: its query projection gets no gradient
            last_visual = 'visual' in n and f'blocks.{last}.' in n
            if not p.requires_grad:  # frozen CLIP weights are left out of the optimizer
                assert n.startswith('clip.') and not moved and id(p) not in groups, n
                assert 'v_proj' not in n and ('q_proj' not in n or last_visual), n
                continue
            if n.startswith('head.'):
                assert groups[id(p)]['lr'] == pytest.approx(2e-4)
                continue
            assert groups[id(p)]['lr'] == pytest.approx(2e-6), n  # the CLIP at x0.01
            if n.endswith('in_proj_weight') or n.endswith('in_proj_bias'):
                c = p.shape[0] // 3
                assert groups[id(p)]['weight_decay'] == 0.0
                assert torch.equal(p.detach()[c:2 * c], before[n][c:2 * c]), n                 # key rows frozen
                assert not torch.equal(p.detach()[2 * c:], before[n][2 * c:]), n               # value rows train
                assert torch.equal(p.detach()[:c], before[n][:c]) == last_visual, n
            else:
                assert any(k in n for k in ('q_proj', 'v_proj', 'positional_embedding', 'pos_embed')), n
                assert moved, n


def test_voc20b_merges_background_classes_and_bad_labels_fail():
    model = tiny_catseg(classes=('cat', 'dog', 'sky', 'wall'), class_labels=[1, 2, 0, 0])
    probs = torch.rand(1, 4, 5, 6)
    merged = model.merge_labels(probs)
    assert merged.shape == (1, 3, 5, 6)
    assert torch.equal(merged[:, 0], probs[:, 2:].amax(1)) and torch.equal(merged[:, 1:], probs[:, :2])
    with pytest.raises(ValueError, match='class_labels has 3 entries for the 4 classes'):
        tiny_catseg(classes=('cat', 'dog', 'sky', 'wall'), class_labels=[1, 2, 0])
    with pytest.raises(ValueError, match='guidance_blocks \\[0, 5\\] outside the 3 blocks'):
        tiny_catseg(guidance_blocks=(0, 5))
    with pytest.raises(ValueError, match='not a whole number of 3x3 windows'):
        tiny_catseg(head=dict(TINY_HEAD, window_size=3))


def test_loss_is_bce_over_labelled_pixels_and_predict_batched_equals_one_by_one():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    model = tiny_catseg().train()
    x = torch.randn(2, 3, 64, 64)
    gt = torch.randint(0, 5, (2, 1, 64, 64))
    gt[0, 0, :10] = 255
    samples = [SegDataSample(gt_sem_seg=PixelData(data=gt[i])) for i in range(2)]
    loss = model.loss(x, samples)['loss_bce']
    with torch.no_grad():
        logits = F.interpolate(model._logits(x, model.class_embeddings(model.train_classes)), size=(64, 64),
                               mode='bilinear', align_corners=False)
    valid = (gt[:, 0] != 255)
    target = F.one_hot(gt[:, 0].clamp(max=4), 5).permute(0, 3, 1, 2).float()
    per = F.binary_cross_entropy_with_logits(logits, target, reduction='none')
    assert loss.item() == pytest.approx((per * valid[:, None]).sum().item() / (valid.sum().item() * 5), rel=1e-4)
    gt[1, 0, 0, 0] = 7
    with pytest.raises(ValueError, match='training label 7 outside the 5 training classes'):
        model.loss(x, [SegDataSample(gt_sem_seg=PixelData(data=gt[i])) for i in range(2)])

    model.eval()
    metas = [dict(ori_shape=(50, 70), img_shape=(64, 64), pad_shape=(64, 64), padding_size=[0, 0, 0, 0])]
    samples = []
    for _ in range(2):
        s = SegDataSample()
        s.set_metainfo(metas[0])
        samples.append(s)
    both = model.predict(x, samples)
    alone = [model.predict(x[i:i + 1], [samples[i]])[0] for i in range(2)]
    for a, b in zip(both, alone):
        assert a.pred_sem_seg.data.shape == (1, 50, 70)
        assert torch.allclose(a.seg_logits.data, b.seg_logits.data, atol=1e-5)
        assert 0.0 <= float(a.seg_logits.data.min()) and float(a.seg_logits.data.max()) <= 1.0
