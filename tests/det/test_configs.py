"""Every F-ViT config loads, names its files where users put them, states the published recipe, and builds with a
tiny random tower swapped in; the built detector runs loss and predict on CPU (odd sizes, empty ground truth, a
batch without a single base box, masks for LVIS)."""
import glob
import os

import numpy as np
import pytest
import torch

from .tiny import (CONFIG_DIR, batch, build, load_config, loss_of, predict, sample, tiny_model_cfg, total)

CONFIGS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(CONFIG_DIR, 'fvit_*.py')))
PUBLISHED = [f'fvit_{b}_upsample-fpn_bs64-3e_ov-coco_{v}.py' for b in ('eva02-b16', 'eva02-l14-336')
             for v in ('original', 'clipself-patches', 'clipself-proposals', 'regionclip')] + [
    'fvit_vit-b16_upsample-fpn_bs64-3e_ov-coco_original.py'] + [
    f'fvit_{b}_upsample-fpn_bs64-48e_ov-lvis_{v}.py' for b in ('eva02-b16', 'eva02-l14-336')
    for v in ('original', 'clipself-patches')] + [
    f'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis-to-{d}_clipself-patches.py'
    for d in ('coco', 'objects365v1', 'voc07')] + ['fvit_tiny_synthetic.py', 'fvit_demo_synthetic.py']


def test_the_published_configs_exist():
    assert sorted(PUBLISHED) == CONFIGS


def _recipe(name, cfg):
    m = cfg.model
    head = m.roi_head.bbox_head
    big = 'l14' in name
    if 'synthetic' in name:   # generated-world configs (tests, make demo): not a published recipe
        return
    lvis_export = 'lvis' in name and 'clipself' in name   # the export of the LVIS-image CLIPSelf config
    regionclip = name.endswith('_regionclip.py')           # the export of the RegionCLIP-style baseline's config
    assert m.backbone.pretrained.startswith(
        'work_dirs/clipself_' if lvis_export else 'work_dirs/regionclip_' if regionclip else 'checkpoints/')
    assert m.backbone.out_indices == ([6, 10, 14, 23] if big else [3, 5, 7, 11])
    assert m.backbone.model_name == ('EVA02-L-14-336' if big else 'ViT-B-16' if 'vit-b16' in name else 'EVA02-B-16')
    assert head.fc_out_channels == (768 if big else 512)
    assert m.neck[0].in_channels == (1024 if big else 768) and m.neck[1].out_channels == 256
    assert m.neck[1].num_outs == 5
    assert m.rpn_head.get('num_classes', 1) == 1   # class-agnostic RPN (mmdet's two-stage detector sets 1 if unset)
    p = 14 if big else 16
    assert m.rpn_head.anchor_generator.strides == [p / 4, p / 2, p, 2 * p, 4 * p]
    assert m.roi_head.bbox_roi_extractor.roi_layer.output_size == 7
    assert head.num_shared_convs == 4 and head.num_shared_fcs == 2 and head.reg_class_agnostic
    assert head.classifier.temperature == 50.0 and head.classifier.learn_temperature
    assert head.loss_bbox.type == 'L1Loss' and head.loss_cls.type == 'OVCrossEntropyLoss'
    assert head.classifier.embeddings.startswith('data/embeddings/')
    if 'to-' in name:   # transfer: test only, one alpha for all classes, T_det fixed at 50
        assert head.novel_classes is None and head.classifier.test_temperature == 50.0
        assert head.vlm_temperature == 120.0 and head.alpha == (0.2 if 'to-coco' in name else 0.3)
        assert m.roi_head.get('mask_head') is None
        return
    opt = cfg.optim_wrapper
    assert opt.optimizer.type == 'AdamW' and opt.optimizer.lr == 1e-4 and opt.optimizer.weight_decay == 0.1
    assert opt.clip_grad.max_norm == 1.0
    assert cfg.param_scheduler[0].end == 250 and cfg.train_dataloader.batch_size == 8
    if 'ov-coco' in name:
        assert head.num_classes == 65 and head.loss_cls.bg_weight == 0.6
        assert (head.vlm_temperature, head.alpha, head.beta) == (75.0, 0.1, 0.8)
        assert head.novel_classes == dict(vocabulary='ov-coco', split='novel')
        assert cfg.train_cfg.max_epochs == 3 and len(cfg.param_scheduler) == 1   # no decay
        assert cfg.train_dataloader.dataset.pipeline[2].scale == ((896, 896) if big else (640, 640))
        assert cfg.val_evaluator.type == 'OVCocoBoxMetric'
    else:
        assert head.num_classes == 1203 and head.loss_cls.bg_weight == 0.9
        assert (head.vlm_temperature, head.alpha, head.beta) == (50.0, 0.1, 0.4 if big else 0.6)
        assert head.novel_classes == dict(vocabulary='lvis', frequency='r')
        assert cfg.train_cfg.max_epochs == 48 and cfg.param_scheduler[1].milestones == [32, 44]
        assert m.roi_head.mask_head.class_agnostic and m.roi_head.mask_head.num_convs == 4
        assert m.roi_head.mask_roi_extractor.roi_layer.output_size == 14
        assert cfg.train_dataloader.dataset.pipeline[2].scale == ((896, 896) if big else (1024, 1024))
        assert cfg.val_evaluator.type == 'OVLVISMetric'
    variant = name.rsplit('_', 1)[1][:-3]
    ckpt = m.backbone.pretrained
    if variant == 'original':
        assert 'CLIP' in ckpt or 'ViT-B-16' in ckpt
    elif lvis_export:
        assert ckpt.endswith('_lvis-patches_6e/exported/epoch_6.safetensors')
    elif regionclip:
        size = 'eva02-l14-336' if big else 'eva02-b16'
        assert ckpt == f'work_dirs/regionclip_{size}_coco-pseudo_6e/exported/epoch_6.safetensors'
        assert os.path.isfile(os.path.join(CONFIG_DIR, '..', 'clipself', f'regionclip_{size}_coco-pseudo_6e.py'))
    else:
        assert variant.replace('clipself-', 'clipself_') in ckpt


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_and_runs_loss_and_predict(name, tmp_path):
    cfg = load_config(name)
    assert cfg.default_scope == 'mmdet' and cfg.custom_imports.imports == ['clipself.det']
    _recipe(name, cfg)
    model = build(tiny_model_cfg(cfg.model, str(tmp_path)))
    num_classes = model.roi_head.bbox_head.num_classes
    masks = model.roi_head.with_mask
    novel = model.roi_head.bbox_head.novel[:-1]
    base = [i for i in range(num_classes) if not novel[i]]
    # odd sizes, an image without ground truth
    data = batch([sample(61, 47, [[3, 4, 30, 40], [20, 10, 45, 33]], base[:2], masks=masks, seed=1),
                  sample(37, 70, [], [], masks=masks, seed=2)])
    losses = loss_of(model, data)
    assert {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox'} <= set(losses)
    assert ('loss_mask' in losses) == masks
    t = total(losses)
    assert torch.isfinite(t)
    t.backward()
    # a batch without any base box
    losses = loss_of(model, batch([sample(48, 48, [], [], masks=masks, seed=3)]))
    assert torch.isfinite(total(losses))
    # predict (score threshold 0: never empty): boxes in original-image pixels (scale 0.5), labels into the vocabulary
    assert model.rpn_head.num_classes == 1 and model.test_cfg.rcnn.score_thr == 0
    out = predict(model, batch([sample(40, 56, scale=(0.5, 0.5), seed=4), sample(64, 64, seed=5)]))
    for res, (h, w) in zip(out, [(80, 112), (64, 64)]):
        p = res.pred_instances
        assert len(p) > 0 and p.bboxes.shape[1] == 4 and len(p.scores) == len(p.labels) == len(p.bboxes)
        assert 0 <= int(p.labels.min()) and int(p.labels.max()) < num_classes
        assert 0 < float(p.scores.min()) and float(p.scores.max()) <= 1.0 + 1e-6
        assert float(p.bboxes[:, :2].min()) >= -1e-3
        assert float(p.bboxes[:, 2].max()) <= w + 1e-3 and float(p.bboxes[:, 3].max()) <= h + 1e-3
        assert bool((p.bboxes[:, 2:] >= p.bboxes[:, :2]).all())
        if masks:
            assert p.masks.shape == (len(p), h, w)


@pytest.mark.parametrize('name', [n for n in CONFIGS if 'to-' not in n and 'tiny' not in n and 'original' in n])
def test_pipelines_run_on_an_image(name, tmp_path):
    """The training pipeline (large-scale jitter, crop, flip) and the test pipeline on a generated image."""
    from mmcv.transforms import Compose
    from PIL import Image
    from pycocotools import mask as mask_utils
    from .tiny import register
    register()
    cfg = load_config(name)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    path = str(tmp_path / 'x.png')
    Image.fromarray(img).save(path)
    m = np.zeros((120, 160), np.uint8)
    m[20:80, 30:90] = 1
    rle = mask_utils.encode(np.asfortranarray(m))
    info = dict(img_path=path, img_id=1, height=120, width=160, seg_map_path=None,
                instances=[dict(bbox=[30, 20, 90, 80], bbox_label=3, ignore_flag=0, mask=rle)])
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        train = Compose(cfg.train_dataloader.dataset.pipeline)
        test = Compose(cfg.test_dataloader.dataset.pipeline)
    size = cfg.train_dataloader.dataset.pipeline[2].scale[0]
    for seed in range(3):
        np.random.seed(seed)
        out = train(dict(info))
        if out is None:   # an empty crop is dropped (the dataset then draws another image)
            continue
        assert max(out['inputs'].shape[1:]) <= size
        assert ('masks' in out['data_samples'].gt_instances) == ('lvis' in name)
    out = test(dict(img_path=path, img_id=1))
    assert max(out['inputs'].shape[1:]) == size
    assert out['data_samples'].scale_factor[0] == pytest.approx(size / 160)
