# OV-LVIS (LVIS v1: the 337 rare classes are novel): train on frequent + common annotations, evaluate mask and box
# AP / AP_r / AP_c / AP_f on val. Make the train json with `python tools/prepare_ov_lvis.py --lvis data/lvis_v1`.
# Images: LVIS names them by COCO url (train2017/..., val2017/...), found under data/lvis_v1/ (link COCO's
# train2017/ and val2017/ there). 1024 px, large-scale jitter, masks.
dataset_type = 'OVLVISDataset'
data_root = 'data/lvis_v1/'
train_ann = 'annotations/lvis_v1_train_seen_1203_cat.json'
val_ann = 'annotations/lvis_v1_val.json'
image_size = (1024, 1024)
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
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
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=train_ann, data_prefix=dict(img=''),
                 filter_cfg=dict(filter_empty_gt=True, min_size=32), pipeline=train_pipeline,
                 backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=val_ann, data_prefix=dict(img=''),
                 test_mode=True, pipeline=test_pipeline, backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(type='OVLVISMetric', ann_file=data_root + val_ann, metric=['bbox', 'segm'])
test_evaluator = val_evaluator
