# F-ViT end to end on generated scenes (coloured shapes; 'star' and 'ring' are novel: never in the training
# boxes) with a tiny random EVA02-style CLIP: trains and evaluates anywhere, on CPU, in a few minutes, with no
# data and no weights.  python tools/train.py configs/fvit/fvit_tiny_synthetic.py
#                       python tools/test.py configs/fvit/fvit_tiny_synthetic.py work_dirs/fvit_tiny_synthetic/epoch_N.pth
# The CLIP is random: its text embeddings of different names are nearly parallel (cosine ~0.99), so the classes
# get seeded random unit vectors instead (classifier embeddings='random'); the CLIP ensemble carries no knowledge,
# so novel AP stays near 0 and base AP shows what the detector learned from the boxes.
_base_ = ['_base_/models/fvit_eva02-b16_upsample-fpn.py', '_base_/default_runtime.py']
classes = ['circle', 'square', 'triangle', 'diamond', 'cross', 'ring', 'bar', 'star']   # SHAPES, category ids 1..8
novel = ['ring', 'star']
width, dim, patch, fpn = 64, 64, 8, 64
strides = [patch / 4, patch / 2, patch, patch * 2, patch * 4]
norm_cfg = dict(type='BN', requires_grad=True)
image_size = (64, 64)
model = dict(
    data_preprocessor=dict(pad_size_divisor=2 * patch, fixed_size=image_size),
    backbone=dict(model_name='EVA02-Tiny-8', pretrained=None, out_indices=[0, 1, 1, 2]),
    neck=[
        dict(type='SimpleFeaturePyramid', in_channels=width, norm_cfg=norm_cfg),
        dict(type='FPN', in_channels=[width] * 4, out_channels=fpn, num_outs=5, norm_cfg=norm_cfg),
    ],
    rpn_head=dict(in_channels=fpn, feat_channels=fpn, anchor_generator=dict(scales=[4], strides=strides)),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=fpn, featmap_strides=strides[:4]),
        bbox_head=dict(
            in_channels=fpn, conv_out_channels=32, fc_out_channels=dim, norm_cfg=norm_cfg, num_classes=len(classes),
            classifier=dict(embeddings='random', class_names=classes, background='learned'),
            novel_classes=novel)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=300),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=100)),
)
data_root = 'data/synthetic_fvit/'
generate = dict(num_images=96, seed=0, size=image_size, object_size=(20, 36), num_objects=(1, 2), novel=novel,
                val_images=32)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='SyntheticOVCocoDataset', data_root=data_root, split='train', generate=generate,
                 filter_cfg=dict(filter_empty_gt=True), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, drop_last=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SyntheticOVCocoDataset', data_root=data_root, split='val', generate=generate,
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
# the split comes from the val json's 'split' field
val_evaluator = dict(type='OVCocoBoxMetric', ann_file=data_root + 'val/annotations/ov_val.json')
test_evaluator = val_evaluator

max_epochs = 12   # ~85 of the 96 training images have a base box: ~22 iterations per epoch, ~260 in all
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20)]
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
                     clip_grad=dict(max_norm=10.0))
default_hooks = dict(logger=dict(interval=8), checkpoint=dict(interval=max_epochs),
                     visualization=dict(type='DetVisualizationHook'))
log_processor = dict(window_size=8)
