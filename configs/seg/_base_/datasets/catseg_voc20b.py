# PASCAL VOC 2012 val with its background class (label 0; VOC21 labels): CAT-Seg's "VOC-20b". CAT-Seg's test scale:
# short side 640 (at most 2560). Preparation: docs/segmentation.md.
_base_ = ['./_test.py']
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2560, 640), keep_ratio=True),
                 dict(type='LoadCheckedAnnotations', num_classes=21), dict(type='PackSegInputs')]
test_dataloader = dict(dataset=dict(type='PascalVOCDataset', data_root='data/VOCdevkit/VOC2012',
                                    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                                    ann_file='ImageSets/Segmentation/val.txt',
                                    pipeline=test_pipeline))
