# PASCAL VOC 2012 val, 20 classes + background (1449 images); short side 336. Preparation: docs/segmentation.md.
_base_ = ['./_test.py']
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2048, 336), keep_ratio=True),
                 dict(type='LoadCheckedAnnotations', num_classes=21), dict(type='PackSegInputs')]
test_dataloader = dict(dataset=dict(type='PascalVOCDataset', data_root='data/VOCdevkit/VOC2012',
                                    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                                    ann_file='ImageSets/Segmentation/val.txt',
                                    pipeline=test_pipeline))
