# ADE20K-full val (ADE20K_2021_17_01, detectron2 preparation), 847 classes; 16-bit labels, 65535 unlabelled. CAT-Seg's
# test scale: short side 640 (at most 2560). Preparation: docs/segmentation.md.
_base_ = ['./_test.py']
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2560, 640), keep_ratio=True),
                 dict(type='LoadCheckedAnnotations', num_classes=847, ignore_index=65535, wide_labels=True),
                 dict(type='PackSegInputs')]
test_dataloader = dict(dataset=dict(type='ADE847Dataset', data_root='data/ADE20K_2021_17_01',
                                    classes_file='clipself/seg/classes/ade847.txt',
                                    data_prefix=dict(img_path='images_detectron2/validation',
                                                     seg_map_path='annotations_detectron2/validation'),
                                    pipeline=test_pipeline))
test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=65535)
