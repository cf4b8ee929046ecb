# COCO-Stuff 164k val2017, 171 classes (5000 images); short side 448. Preparation: docs/segmentation.md.
_base_ = ['./_test.py']
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2048, 448), keep_ratio=True),
                 dict(type='LoadCheckedAnnotations', num_classes=171), dict(type='PackSegInputs')]
test_dataloader = dict(dataset=dict(type='COCOStuffDataset', data_root='data/coco_stuff164k',
                                    data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017'),
                                    pipeline=test_pipeline))
