# ADE20K val, 150 classes (0 = other, ignored). CAT-Seg's test scale: short side 640 (at most 2560). Preparation:
# docs/segmentation.md.
_base_ = ['./_test.py']
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2560, 640), keep_ratio=True),
                 dict(type='LoadCheckedAnnotations', num_classes=150), dict(type='PackSegInputs')]
test_dataloader = dict(dataset=dict(type='ADE20KDataset', data_root='data/ade/ADEChallengeData2016',
                                    data_prefix=dict(img_path='images/validation',
                                                     seg_map_path='annotations/validation'),
                                    pipeline=test_pipeline))
