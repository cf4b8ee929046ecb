"""The parts of F-ViT: frozen backbone, feature pyramid, classifier, loss, ensemble, data preprocessor."""
import copy

import pytest
import torch
import torch.nn.functional as F

from clipself.det import (OVCrossEntropyLoss, SimpleFeaturePyramid, TextEmbeddingClassifier, clip_region_probs,
                          ensemble_scores)
from clipself.det.backbone import FrozenCLIPViT
from clipself.det.vocab import novel_mask, novel_names

from .tiny import batch, build, load_config, loss_of, sample, tiny_model_cfg, total, write_embeddings

SHAPES = ['circle', 'square', 'triangle', 'diamond', 'cross', 'ring', 'bar', 'star']


@pytest.fixture(scope='module')
def synthetic_model_cfg(tmp_path_factory):
    return tiny_model_cfg(load_config('fvit_tiny_synthetic.py').model, str(tmp_path_factory.mktemp('emb')))


@pytest.fixture(scope='module')
def model(synthetic_model_cfg):
    torch.manual_seed(0)
    return build(synthetic_model_cfg)


# -- backbone ---------------------------------------------------------------------------------------------------
def test_backbone_is_frozen_and_stays_in_eval_mode(model):
    bb = model.backbone
    before = {k: v.clone() for k, v in bb.clip.state_dict().items()}
    model.init_weights()   # mmengine calls it on the whole detector: must not touch the CLIP
    model.train()
    assert not bb.clip.training and all(not m.training for m in bb.clip.modules())
    assert not any(p.requires_grad for p in bb.clip.parameters())
    after = bb.clip.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    x = torch.randn(2, 3, 48, 64)
    taps, dense = bb(x, with_dense=False)
    assert dense is None and all(not t.requires_grad and t.grad_fn is None for t in taps)


def test_backbone_taps_and_dense_map_match_clipself_models():
    torch.manual_seed(0)
    bb = FrozenCLIPViT(model_name='EVA02-Tiny-8', out_indices=[0, 2, 1, 2])
    x = torch.randn(2, 3, 40, 56)   # 5 x 7 tokens
    taps, dense = bb(x, with_dense=True)
    ref = bb.clip.forward_features(x, [0, 1, 2], dense_last=True)
    assert [t.shape for t in taps] == [(2, 64, 5, 7)] * 4
    assert torch.equal(taps[0], ref[0]) and torch.equal(taps[1], ref[2]) and torch.equal(taps[2], ref[1])
    assert torch.allclose(dense, bb.clip.encode_dense(x), atol=1e-5)
    # without a tap on the last block the dense map is computed separately, still encode_dense
    bb2 = FrozenCLIPViT(model_name='EVA02-Tiny-8', out_indices=[0, 0, 1, 1])
    bb2.clip.load_state_dict(bb.clip.state_dict())
    assert torch.allclose(bb2(x, with_dense=True)[1], bb.clip.encode_dense(x), atol=1e-5)
    with pytest.raises(ValueError, match='out_indices'):
        FrozenCLIPViT(model_name='EVA02-Tiny-8', out_indices=[0, 5])


def test_training_keeps_no_backbone_activations(model):
    """Every tensor autograd saves for backward belongs to the trainable parts: nothing is saved while the CLIP
    runs (the frozen tower contributes no memory to training beyond its forward)."""
    saved_in_backbone = []
    inside = [False]

    def pack(t):
        if inside[0]:
            saved_in_backbone.append(t.numel())
        return t

    h1 = model.backbone.register_forward_pre_hook(lambda *a: inside.__setitem__(0, True))
    h2 = model.backbone.register_forward_hook(lambda *a: inside.__setitem__(0, False))
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            losses = loss_of(model, batch([sample(64, 64, [[4, 4, 40, 40]], [0])]))
    finally:
        h1.remove()
        h2.remove()
    assert saved_in_backbone == []
    total(losses).backward()


def test_backbone_loads_clip_files(tmp_path):
    """The detector's CLIP comes from any file build_clip reads: our safetensors export, an EVA-CLIP-layout file
    (the original EVA-CLIP / released CLIPSelf key format), an open_clip state dict."""
    from clipself.models import build_clip, save_safetensors, to_eva_clip
    torch.manual_seed(3)
    ref = build_clip('EVA02-Tiny-8')
    files = {'export.safetensors': None, 'eva_clip.pt': to_eva_clip(ref.clip.state_dict()),
             'open_clip.pt': ref.clip.state_dict()}
    x = torch.randn(1, 3, 32, 32)
    want = ref.encode_dense(x)
    for name, sd in files.items():
        path = str(tmp_path / name)
        if sd is None:
            save_safetensors(ref.clip, path, model_name='EVA02-Tiny-8')
        else:
            torch.save(sd, path)
        bb = FrozenCLIPViT(model_name='EVA02-Tiny-8', pretrained=path, out_indices=[0, 1, 2, 2])
        assert torch.allclose(bb(x, with_dense=True)[1], want, atol=1e-5), name
        assert not any(p.requires_grad for p in bb.parameters())
    with pytest.raises(FileNotFoundError):
        FrozenCLIPViT(model_name='EVA02-Tiny-8', pretrained=str(tmp_path / 'missing.pt'))


# -- pyramid -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('hw', [(8, 8), (5, 7), (1, 3)])
def test_pyramid_strides_at_odd_grids(hw):
    h, w = hw
    p = SimpleFeaturePyramid(in_channels=16, norm_cfg=dict(type='BN'))
    outs = p([torch.randn(2, 16, h, w) for _ in range(4)])
    assert [o.shape[-2:] for o in outs] == [(4 * h, 4 * w), (2 * h, 2 * w), (h, w), ((h + 1) // 2, (w + 1) // 2)]
    with pytest.raises(ValueError, match='4 maps'):
        p([torch.randn(1, 16, h, w)] * 3)
    assert {k.split('.')[0] for k in p.state_dict()} == {'up2', 'up4'}  # the default layout's names
    small = SimpleFeaturePyramid(in_channels=16, scale_factors=(2, 1, 0.5, 0.25))
    outs = small([torch.randn(2, 16, h, w) for _ in range(4)])
    assert [o.shape[-2:] for o in outs] == [(2 * h, 2 * w), (h, w), ((h + 1) // 2, (w + 1) // 2),
                                            ((h + 3) // 4, (w + 3) // 4)]
    assert not hasattr(small, 'up4')
    with pytest.raises(ValueError, match='strictly decreasing'):
        SimpleFeaturePyramid(in_channels=16, scale_factors=(1, 2, 0.5, 0.25))


# -- classifier, loss, ensemble ------------------------------------------------------------------------------------
def test_classifier_is_a_scaled_cosine_with_background(tmp_path):
    path = write_embeddings(str(tmp_path / 'e.pt'), ['a', 'b', 'c'], 'EVA02-Tiny-8', dim=8)
    for bg in ('zero', 'text', 'learned'):
        clf = TextEmbeddingClassifier(in_features=8, out_features=4, embeddings=path, background=bg)
        x = torch.randn(5, 8)
        logits = clf(x)
        emb = clf.all_embeddings()
        assert logits.shape == (5, 4)
        assert torch.allclose(logits, 50.0 * F.normalize(x, dim=-1) @ emb.t(), atol=1e-5)
        if bg == 'zero':
            assert torch.all(logits[:, -1] == 0)
    clf.eval()
    clf.test_temperature = 10.0
    assert torch.allclose(clf(x), 10.0 * F.normalize(x, dim=-1) @ clf.all_embeddings().t(), atol=1e-5)
    # a file whose classes or dimension do not fit
    with pytest.raises(ValueError, match='num_classes=4'):
        TextEmbeddingClassifier(in_features=8, out_features=5, embeddings=path)
    with pytest.raises(ValueError, match='fc_out_channels'):
        TextEmbeddingClassifier(in_features=16, out_features=4, embeddings=path)
    with pytest.raises(ValueError, match='do not match'):
        TextEmbeddingClassifier(in_features=8, out_features=4, embeddings=path, class_names=['a', 'c', 'b'])
    # text embeddings made with another CLIP
    from clipself.models import build_clip
    clf = TextEmbeddingClassifier(in_features=64, out_features=4,
                                  embeddings=write_embeddings(str(tmp_path / 'f.pt'), 'abc', 'ViT-B-16', dim=64))
    with pytest.raises(ValueError, match='made with ViT-B-16'):
        clf.attach_clip(build_clip('EVA02-Tiny-8'))


def test_embedding_file_is_the_vocabulary_not_the_checkpoint(tmp_path):
    path = write_embeddings(str(tmp_path / 'e.pt'), ['a', 'b'], 'EVA02-Tiny-8', dim=8)
    clf = TextEmbeddingClassifier(in_features=8, out_features=3, embeddings=path, background='learned')
    keys = set(clf.state_dict())
    assert 'class_embeddings' not in keys and {'temperature', 'background_embedding'} <= keys


def test_novel_specs():
    assert len(novel_names(dict(vocabulary='ov-coco', split='novel'))) == 17
    assert len(novel_names(dict(vocabulary='lvis', frequency='r'))) == 337
    assert novel_mask(['ring'], SHAPES) == [n == 'ring' for n in SHAPES]
    with pytest.raises(ValueError, match='not in the vocabulary'):
        novel_mask(['rnig'], SHAPES)
    with pytest.raises(ValueError, match='list of names or a dict'):
        novel_names('ov-coco')


def test_loss_excludes_held_out_classes():
    loss = OVCrossEntropyLoss(bg_weight=0.6)
    loss.set_class_weight([False, True, False])    # class 1 is novel; 3 = background
    logits = torch.randn(6, 4, requires_grad=True)
    labels = torch.tensor([0, 2, 3, 3, 0, 2])
    out = loss(logits, labels, avg_factor=6)
    masked = logits.detach().clone()
    masked[:, 1] = -float('inf')
    ce = F.cross_entropy(masked, labels, reduction='none') * torch.tensor([1, 1, .6, .6, 1, 1])
    assert torch.allclose(out, ce.sum() / 6)
    out.backward()
    assert torch.all(logits.grad[:, 1] == 0) and logits.grad[:, [0, 2, 3]].abs().sum() > 0
    with pytest.raises(ValueError, match='held-out classes \\[1\\]'):
        loss(logits, torch.tensor([1, 0]), avg_factor=2)


def test_ensemble_formula():
    torch.manual_seed(0)
    logits, feats, emb = torch.randn(5, 4), torch.randn(5, 8), F.normalize(torch.randn(4, 8), dim=-1)
    novel = torch.tensor([False, True, False, False])
    p_clip = clip_region_probs(feats, emb, 75.0)
    assert torch.allclose(p_clip, (75.0 * F.normalize(feats, dim=-1) @ emb.t()).softmax(-1))
    s = ensemble_scores(logits, p_clip, novel, alpha=0.1, beta=0.8)
    p_det = logits.softmax(-1)
    assert torch.allclose(s[:, 0], p_det[:, 0] ** 0.9 * p_clip[:, 0] ** 0.1)
    assert torch.allclose(s[:, 1], p_det[:, 1] ** 0.2 * p_clip[:, 1] ** 0.8)
    assert torch.allclose(ensemble_scores(logits, None, novel, alpha=0.1, beta=0.8), p_det)


# -- whole model -------------------------------------------------------------------------------------------------
def test_novel_classes_take_no_part_in_training(synthetic_model_cfg):
    """Gradients of the training loss w.r.t. the novel classes' text embeddings (and logits) are exactly zero;
    the base classes' are not."""
    torch.manual_seed(0)
    m = build(synthetic_model_cfg)
    head = m.roi_head.bbox_head
    clf = head.fc_cls
    emb = clf.class_embeddings.clone().requires_grad_(True)
    clf.class_embeddings = emb
    logits_grads = []

    def keep_grad(mod, inp, out):
        out.register_hook(logits_grads.append)

    h = clf.register_forward_hook(keep_grad)
    novel = head.novel[:-1]
    assert [n for n, v in zip(clf.class_names, novel.tolist()) if v] == ['ring', 'star']
    base = [i for i, v in enumerate(novel.tolist()) if not v]
    data = batch([sample(64, 64, [[4, 4, 30, 30], [30, 28, 60, 60]], [base[0], base[1]], seed=1),
                  sample(64, 64, [[10, 10, 50, 40]], [base[2]], seed=2)])
    total(loss_of(m, data)).backward()
    h.remove()
    assert torch.all(emb.grad[novel] == 0)
    assert torch.all(emb.grad[~novel].abs().sum(1) > 0)
    assert torch.all(logits_grads[0][:, :-1][:, novel] == 0)
    # a training box of a novel class is refused, not trained on
    bad = batch([sample(64, 64, [[4, 4, 30, 30]], [int(novel.nonzero()[0])], seed=3)])
    with pytest.raises(ValueError, match='held-out classes'):
        loss_of(m, bad)


def test_build_checks_parts_against_the_clip(synthetic_model_cfg):
    for path, value, match in [
            (('neck', 0, 'in_channels'), 32, 'width 64'),
            (('rpn_head', 'anchor_generator', 'strides'), [4, 8, 16, 32, 64], 'anchor strides'),
            (('roi_head', 'bbox_head', 'fc_out_channels'), 32, 'fc_out_channels=64|32-d'),
            (('neck', 0, 'scale_factors'), (2, 1, 0.5, 0.25), r'anchor strides .* use \[4\.0, 8\.0'),
            (('data_preprocessor', 'pad_size_divisor'), 8, 'multiple of the coarsest pyramid stride, 16')]:
        cfg = copy.deepcopy(synthetic_model_cfg)
        d = cfg
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
        with pytest.raises(ValueError, match=match):
            build(cfg)


def test_features_reach_roialign_contiguous(model):
    """mmcv 2.1's CPU RoIAlign reads channels-last inputs as NCHW (wrong features, no error): the pyramid must
    hand it contiguous maps (the ViT taps are transposed token views)."""
    from mmcv.ops import RoIAlign
    f = torch.randn(2, 4, 8, 8)
    rois = torch.tensor([[1., 2, 2, 20, 24]])
    layer = RoIAlign(3, 1 / 4., 0)
    assert not torch.allclose(layer(f.to(memory_format=torch.channels_last), rois), layer(f, rois))  # the trap
    x, _ = model._features(torch.randn(2, 3, 48, 64), with_dense=False)
    assert all(t.is_contiguous() for t in x)


def test_batched_prediction_equals_one_by_one(model):
    a = sample(64, 64, seed=7)
    b = sample(64, 64, seed=8)
    from .tiny import predict
    both = predict(model, batch([a, b]))
    one = predict(model, batch([b]))
    pa, pb = both[1].pred_instances, one[0].pred_instances
    assert len(pb) > 0 and len(pa) == len(pb)   # score threshold 0 (tiny_model_cfg): never empty
    assert torch.allclose(pa.bboxes, pb.bboxes, atol=1e-3) and torch.allclose(pa.scores, pb.scores, atol=1e-4)


def test_data_preprocessor_pads_to_a_fixed_canvas():
    from .tiny import register
    register()
    from clipself.det import FViTDataPreprocessor
    dp = FViTDataPreprocessor(mean=[0, 0, 0], std=[1, 1, 1], pad_size_divisor=16, fixed_size=(96, 96),
                              test_fixed_size=(64, 64))
    data = batch([sample(50, 30, seed=1)])
    out = dp(copy.deepcopy(data), True)
    assert out['inputs'].shape[-2:] == (96, 96) and out['data_samples'][0].batch_input_shape == (96, 96)
    assert torch.all(out['inputs'][..., 50:, :] == 0) and torch.all(out['inputs'][..., 30:] == 0)
    assert dp(copy.deepcopy(data), False)['inputs'].shape[-2:] == (64, 64)
    big = batch([sample(100, 30, seed=1)])
    assert dp(big, False)['inputs'].shape[-2:] == (112, 64)   # larger than the canvas: divisor only


def test_set_vocabulary(model):
    from .tiny import predict
    m = copy.deepcopy(model)
    m.set_vocabulary(['square', 'kettle', 'sofa'])
    head = m.roi_head.bbox_head
    assert head.num_classes == 3 and head.novel.tolist() == [False, True, True, False]
    out = predict(m, batch([sample(64, 64, seed=3)]))
    p = out[0].pred_instances
    assert len(p) > 0 and 0 <= int(p.labels.min()) and int(p.labels.max()) < 3
    assert set(p.labels.tolist()) & {1, 2}   # the new (novel) classes are predicted too, not only 'square'
