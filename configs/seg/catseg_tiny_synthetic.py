# CAT-Seg end to end on generated scenes (8 coloured shapes on 2 textures, 96 px) with the demo's small EVA02-style
# CLIP (assets/, pre-trained on such scenes): trains and evaluates on a CPU in a couple of minutes, no data needed.
#   python tools/train.py configs/seg/catseg_tiny_synthetic.py
#   python tools/test.py configs/seg/catseg_tiny_synthetic.py work_dirs/catseg_tiny_synthetic/iter_300.pth
# Everything is CAT-Seg's design at toy size: 64 px crops -> an 8x8 grid, windows of 4 (shift 2), guidance from
# blocks 1 and 3 of 6, evaluation on a 96 px canvas with 64 px windows plus the whole scene.
_base_ = ['_base_/models/catseg.py', '_base_/catseg_schedule_80k.py']
classes = ['circle', 'square', 'triangle', 'diamond', 'cross', 'ring', 'bar', 'star', 'stripes', 'blotches']
model = dict(
    data_preprocessor=dict(size=(64, 64)),
    clip=dict(model_name='EVA02-Small-8', pretrained='assets/demo_clip_eva02-small-8.safetensors'),
    classes=classes, train_classes=classes, templates='single', clip_size=64, guidance_blocks=(1, 3),
    head=dict(hidden_dim=32, appearance_dim=16, text_dim=16, num_heads=2, window_size=4, decoder_dims=(32, 16),
              guidance_dims=(32, 16), guidance_proj_dims=(8, 4), max_classes=16),
    test_cfg=dict(mode='slide_global', canvas=96, crop=64, stride=32),
)
data_root = 'data/synthetic_seg/'
train_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadCheckedAnnotations', num_classes=10),
                  dict(type='RandomCrop', crop_size=(64, 64)), dict(type='RandomFlip', prob=0.5),
                  dict(type='PackSegInputs')]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadCheckedAnnotations', num_classes=10),
                 dict(type='PackSegInputs')]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='SyntheticSceneSegDataset', data_root=data_root + 'train', num_images=64, seed=0, size=96,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SyntheticSceneSegDataset', data_root=data_root + 'val', num_images=16, seed=1000, size=96,
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

max_iters = 300
optim_wrapper = dict(optimizer=dict(lr=1e-3), clip_grad=None)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=0.0, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
