"""The F-ViT configs state the reference's HEAD (B/16 OV-COCO canvas 640; transfer CLIP weights and test settings),
and their inheritance (OV-LVIS from OV-COCO, L/14 sizes from the B/16 pipelines) resolves to the same configs as
the restated files it replaced, except where the reference's values were adopted on purpose."""
import json
import os

import pytest
from mmengine.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG_DIR = os.path.join(ROOT, 'configs', 'fvit')
# every F-ViT config resolved (Config.fromfile(...).to_dict(), json) at commit 91abf26, before the inheritance
SNAPSHOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fvit_configs_resolved_91abf26.json')
MISSING = '<missing>'


def _load(name):
    return Config.fromfile(os.path.join(CONFIG_DIR, name), import_custom_modules=False)


def _flat(value, prefix=''):
    """Nested dicts / lists -> ``{'a.b.0.c': leaf}``."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in value):
        items = enumerate(value)
    else:
        return {prefix: list(value) if isinstance(value, tuple) else value}
    out = {}
    for k, v in items:
        out.update(_flat(v, f'{prefix}.{k}' if prefix else str(k)))
    return out


def _changes(before: dict, after: dict) -> dict:
    a, b = _flat(before), _flat(json.loads(json.dumps(after)))
    return {k: (a.get(k, MISSING), b.get(k, MISSING)) for k in sorted(set(a) | set(b))
            if a.get(k, MISSING) != b.get(k, MISSING)}


# -- what changed on purpose ----------------------------------------------------------------------------------------
B16_COCO = {'model.data_preprocessor.fixed_size': ([1024, 1024], [640, 640]),
            'model.data_preprocessor.test_fixed_size': ([640, 640], MISSING)}
# the L/14 pipelines are now the base's at 896 px: LoadImageFromFile keeps the base's backend_args (None)
L14_PIPELINES = {f'{key}.0.backend_args': (MISSING, None) for key in (
    'train_pipeline', 'test_pipeline', 'train_dataloader.dataset.pipeline', 'val_dataloader.dataset.pipeline',
    'test_dataloader.dataset.pipeline')}
LVIS_EXPORT = {'b16': ('checkpoints/eva_vitb16_lvis_clipself_patches.pt',
                       'work_dirs/clipself_eva02-b16_lvis-patches_6e/exported/epoch_6.safetensors'),
               'l14': ('checkpoints/eva_vitl14_lvis_clipself_patches.pt',
                       'work_dirs/clipself_eva02-l14-336_lvis-patches_6e/exported/epoch_6.safetensors')}
TRANSFER = {**L14_PIPELINES, 'model.backbone.pretrained': LVIS_EXPORT['l14'],
            'model.test_cfg.rcnn.score_thr': (0.01, 0.0001), 'model.test_cfg.rcnn.max_per_img': (100, 300)}
# the GPU schedules' speed settings (resolve_amp's 'auto', pinned host memory), added on purpose to every config
# but the CPU-sized synthetic ones
SPEED = {'amp': (MISSING, 'auto'),
         **{f'{split}_dataloader.pin_memory': (MISSING, True) for split in ('train', 'val', 'test')}}
EXPECTED = {
    'fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_original.py': B16_COCO,
    'fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_clipself-patches.py': B16_COCO,
    'fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_clipself-proposals.py': B16_COCO,
    'fvit_vit-b16_upsample-fpn_bs64-3e_ov-coco_original.py': B16_COCO,
    'fvit_eva02-l14-336_upsample-fpn_bs64-3e_ov-coco_original.py': L14_PIPELINES,
    'fvit_eva02-l14-336_upsample-fpn_bs64-3e_ov-coco_clipself-patches.py': L14_PIPELINES,
    'fvit_eva02-l14-336_upsample-fpn_bs64-3e_ov-coco_clipself-proposals.py': L14_PIPELINES,
    'fvit_eva02-b16_upsample-fpn_bs64-48e_ov-lvis_clipself-patches.py': {
        'model.backbone.pretrained': LVIS_EXPORT['b16']},
    'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis_original.py': L14_PIPELINES,
    'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis_clipself-patches.py': {
        **L14_PIPELINES, 'model.backbone.pretrained': LVIS_EXPORT['l14']},
    'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis-to-coco_clipself-patches.py': {
        **TRANSFER, 'model.roi_head.bbox_head.alpha': (0.3, 0.2)},
    'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis-to-objects365v1_clipself-patches.py': TRANSFER,
    'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis-to-voc07_clipself-patches.py': {
        **TRANSFER, 'model.roi_head.bbox_head.alpha': (0.2, 0.3), 'voc_test_pipeline.0.backend_args': (MISSING, None)},
}


def _snapshot():
    with open(SNAPSHOT) as f:
        return json.load(f)


@pytest.mark.parametrize('name', sorted(_snapshot()))
def test_resolved_configs_change_only_where_meant(name):
    """``ov_lvis.py`` now inherits ``ov_coco.py`` and the L/14 configs resize the base pipelines instead of
    restating them: nothing else moved."""
    assert _changes(_snapshot()[name], _load(name).to_dict()) == {**({} if 'synthetic' in name else SPEED), **EXPECTED.get(name, {})}


# configs added after the snapshot; each inherits a snapshot config and changes only the backbone's weights
ADDED = {f'fvit_{b}_upsample-fpn_bs64-3e_ov-coco_regionclip.py': f'fvit_{b}_upsample-fpn_bs64-3e_ov-coco_original.py'
         for b in ('eva02-b16', 'eva02-l14-336')}


def test_every_config_is_in_the_snapshot():
    assert sorted(n for n in os.listdir(CONFIG_DIR) if n.startswith('fvit_')) == sorted([*_snapshot(), *ADDED])


@pytest.mark.parametrize('name', sorted(ADDED))
def test_added_configs_change_only_the_weights(name):
    changes = _changes(_load(ADDED[name]).to_dict(), _load(name).to_dict())
    assert list(changes) == ['model.backbone.pretrained'], changes


# -- the values, stated ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', ['fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_original.py',
                                  'fvit_vit-b16_upsample-fpn_bs64-3e_ov-coco_original.py'])
def test_b16_ov_coco_trains_and_tests_on_a_640_canvas(name):
    """As F-ViT/configs/ov_coco/fvit_vitb16_upsample_fpn_bs64_3e_ovcoco_eva_original.py at HEAD: resize 0.1-2.0 of
    640, crop 640, pad to 640 (training); resize to 640, pad to a square (test)."""
    cfg = _load(name)
    dp = cfg.model.data_preprocessor
    assert tuple(dp.fixed_size) == (640, 640) and dp.get('test_fixed_size') is None
    resize, crop = cfg.train_dataloader.dataset.pipeline[2:4]
    assert resize.type == 'RandomResize' and tuple(resize.scale) == (640, 640) and resize.ratio_range == (0.1, 2.0)
    assert resize.keep_ratio and crop.type == 'RandomCrop' and crop.crop_type == 'absolute_range'
    assert tuple(crop.crop_size) == (640, 640) and crop.allow_negative_crop and crop.recompute_bbox
    test_resize = cfg.test_dataloader.dataset.pipeline[1]
    assert test_resize.type == 'Resize' and tuple(test_resize.scale) == (640, 640) and test_resize.keep_ratio


@pytest.mark.parametrize('size,canvas', [('eva02-l14-336', 896), ('eva02-b16', 1024)])
def test_lvis_and_l14_sizes(size, canvas):
    for dataset in ('3e_ov-coco', '48e_ov-lvis'):
        if size == 'eva02-b16' and dataset == '3e_ov-coco':
            continue
        cfg = _load(f'fvit_{size}_upsample-fpn_bs64-{dataset}_original.py')
        train = cfg.train_dataloader.dataset.pipeline
        assert tuple(cfg.model.data_preprocessor.fixed_size) == (canvas, canvas)
        assert tuple(train[2].scale) == tuple(train[3].crop_size) == (canvas, canvas)
        assert tuple(cfg.test_dataloader.dataset.pipeline[1].scale) == (canvas, canvas)
        assert train[1].with_mask == ('lvis' in dataset)
        assert train[0].backend_args is None and cfg.test_dataloader.dataset.pipeline[0].backend_args is None


@pytest.mark.parametrize('target,alpha', [('coco', 0.2), ('objects365v1', 0.3), ('voc07', 0.3)])
def test_transfer_configs_follow_the_reference(target, alpha):
    """As F-ViT/configs/transfer/fvit_vitl14_upsample_fpn_transfer2{coco,objects365v1,voc}.py: the CLIP weight of
    each target, T_vlm 120, T_det 50, and the LVIS test settings they inherit."""
    cfg = _load(f'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis-to-{target}_clipself-patches.py')
    head = cfg.model.roi_head.bbox_head
    assert (head.alpha, head.vlm_temperature, head.classifier.test_temperature) == (alpha, 120.0, 50.0)
    rcnn = cfg.model.test_cfg.rcnn
    assert (rcnn.score_thr, rcnn.nms.iou_threshold, rcnn.max_per_img) == (1e-4, 0.5, 300)
