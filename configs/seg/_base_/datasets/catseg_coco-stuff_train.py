# COCO-Stuff 164k, 171 classes: train2017 (118k images) for training, val2017 (5000) for validation. CAT-Seg's
# augmentation: short side 384, a random 384 px crop, flip, photometric distortion (its ColorAugSSD).
# Preparation: docs/segmentation.md (mmseg's coco_stuff164k.py converter).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedAnnotations', num_classes=171),
    dict(type='Resize', scale=(4096, 384), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(384, 384), cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
val_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2560, 640), keep_ratio=True),
                dict(type='LoadCheckedAnnotations', num_classes=171), dict(type='PackSegInputs')]
data_root = 'data/coco_stuff164k'
train_dataloader = dict(
    batch_size=4, num_workers=4, persistent_workers=True, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='COCOStuffDataset', data_root=data_root,
                 data_prefix=dict(img_path='images/train2017', seg_map_path='annotations/train2017'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='COCOStuffDataset', data_root=data_root,
                 data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017'),
                 pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
