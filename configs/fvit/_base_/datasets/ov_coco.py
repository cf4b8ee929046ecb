# OV-COCO (48 base + 17 novel classes): train on base-class boxes of train2017, evaluate box AP50 on the 65
# classes of val2017. Make the jsons with `python tools/prepare_ov_coco.py --coco data/coco` (the published
# split files of the same names work too). 640 px, large-scale jitter (resize 0.1-2.0, crop, flip).
dataset_type = 'OVCocoDataset'
data_root = 'data/coco/'
train_ann = 'zero-shot/instances_train2017_seen_2_65_cat.json'
val_ann = 'zero-shot/instances_val2017_all_2.json'
image_size = (640, 640)
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=False),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size, recompute_bbox=True,
         allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=8,   # x 8 GPUs = 64
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=train_ann, data_prefix=dict(img='train2017/'),
                 filter_cfg=dict(filter_empty_gt=True, min_size=32), pipeline=train_pipeline,
                 backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    pin_memory=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=val_ann, data_prefix=dict(img='val2017/'),
                 test_mode=True, pipeline=test_pipeline, backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(type='OVCocoBoxMetric', ann_file=data_root + val_ann,
                     novel_classes=dict(vocabulary='ov-coco', split='novel'))
test_evaluator = val_evaluator
