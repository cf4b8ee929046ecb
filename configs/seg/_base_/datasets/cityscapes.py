# Cityscapes val, 19 classes (500 images); short side 560. Preparation: docs/segmentation.md.
_base_ = ['./_test.py']
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2048, 560), keep_ratio=True),
                 dict(type='LoadCheckedAnnotations', num_classes=19), dict(type='PackSegInputs')]
test_dataloader = dict(dataset=dict(type='CityscapesDataset', data_root='data/cityscapes',
                                    data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
                                    pipeline=test_pipeline))
