# OV-LVIS (LVIS v1: the 337 rare classes are novel): train on frequent + common annotations, evaluate mask and box
# AP / AP_r / AP_c / AP_f on val. Make the train json with `python tools/prepare_ov_lvis.py --lvis data/lvis_v1`.
# Images: LVIS names them by COCO url (train2017/..., val2017/...), found under data/lvis_v1/ (link COCO's
# train2017/ and val2017/ there). The loaders and the large-scale jitter of ov_coco.py at 1024 px, with masks.
_base_ = './ov_coco.py'
dataset_type = 'OVLVISDataset'
data_root = 'data/lvis_v1/'
train_ann = 'annotations/lvis_v1_train_seen_1203_cat.json'
val_ann = 'annotations/lvis_v1_val.json'
image_size = (1024, 1024)
# ov_coco.py's pipelines at this size ('scale' / 'crop_size' of the resize and crop steps), with masks
train_pipeline = [dict(t, with_mask=True) if t.type == 'LoadAnnotations' else
                  dict(t, **{k: image_size for k in ('scale', 'crop_size') if k in t}) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **{k: image_size for k in ('scale',) if k in t}) for t in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file=train_ann,
                                     data_prefix=dict(img=''), pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file=val_ann,
                                   data_prefix=dict(img=''), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='OVLVISMetric', ann_file=data_root + val_ann, metric=['bbox', 'segm'])
test_evaluator = val_evaluator
