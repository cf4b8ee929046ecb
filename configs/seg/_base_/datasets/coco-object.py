# COCO val2017, 80 thing classes + background (5000 images); short side 336. Preparation: docs/segmentation.md.
_base_ = ['./_test.py']
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2048, 336), keep_ratio=True),
                 dict(type='LoadCheckedAnnotations', num_classes=81), dict(type='PackSegInputs')]
test_dataloader = dict(dataset=dict(type='COCOObjectDataset', data_root='data/coco_stuff164k',
                                    data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017'),
                                    pipeline=test_pipeline))
