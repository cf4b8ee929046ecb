# PASCAL Context val, 59 classes (background ignored). CAT-Seg's test scale: short side 640 (at most 2560).
# Preparation: docs/segmentation.md.
_base_ = ['./_test.py']
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2560, 640), keep_ratio=True),
                 dict(type='LoadCheckedAnnotations', num_classes=59), dict(type='PackSegInputs')]
test_dataloader = dict(dataset=dict(type='PascalContextDataset59', data_root='data/VOCdevkit/VOC2010',
                                    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
                                    ann_file='ImageSets/SegmentationContext/val.txt',
                                    pipeline=test_pipeline))
