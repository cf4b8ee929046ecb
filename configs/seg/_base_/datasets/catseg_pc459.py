# PASCAL Context val, 459 classes (detectron2 preparation); 16-bit labels, 65535 unlabelled. CAT-Seg's test scale:
# short side 640 (at most 2560). Preparation: docs/segmentation.md.
_base_ = ['./_test.py']
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2560, 640), keep_ratio=True),
                 dict(type='LoadCheckedAnnotations', num_classes=459, ignore_index=65535, wide_labels=True),
                 dict(type='PackSegInputs')]
test_dataloader = dict(dataset=dict(type='PascalContext459Dataset', data_root='data/VOCdevkit/VOC2010',
                                    classes_file='clipself/seg/classes/pc459.txt',
                                    data_prefix=dict(img_path='JPEGImages',
                                                     seg_map_path='annotations_detectron2/pc459_val'),
                                    pipeline=test_pipeline))
test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=65535)
