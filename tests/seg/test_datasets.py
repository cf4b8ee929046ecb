"""The datasets mmseg lacks read generated data in their real file layouts: VOC20 (background ignored),
COCO-Object (made from COCO-Stuff stuffthingmaps by tools/prepare_coco_object.py), ADE-847 and PC-459 (16-bit .tif
label maps)."""
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import DefaultScope
from PIL import Image

from clipself.seg import coco_object_labels

from .helpers import run_tool, write_dataset


def _build(cfg):
    from mmseg.registry import DATASETS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)


def _load(num_classes, **kw):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return Compose([dict(type='LoadImageFromFile'),
                        dict(type='LoadCheckedAnnotations', num_classes=num_classes, **kw)])


def test_voc20_ignores_background(tmp_path):
    root = write_dataset('voc20', str(tmp_path), values=(0, 1, 20, 255))
    ds = _build(dict(type='PascalVOC20Dataset', data_root=root, ann_file='ImageSets/Segmentation/val.txt',
                     data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass')))
    assert len(ds.metainfo['classes']) == 20 and ds.metainfo['classes'][0] == 'aeroplane'
    gt = _load(20)(ds.get_data_info(0))['gt_seg_map']
    assert gt[0, 0] == 255 and gt[0, -1] == 0 and gt[-1, 0] == 19 and gt[-1, -1] == 255


def test_coco_object_from_stuffthingmaps(tmp_path):
    # stuffthingmaps: value = COCO category id - 1: person (id 1) 0, toothbrush (id 90) 89, banner (stuff, id 92) 91
    raw = np.array([[0, 89], [91, 255]], np.uint8)
    assert coco_object_labels(raw).tolist() == [[1, 80], [0, 255]]
    src, dst = tmp_path / 'stuffthingmaps/val2017', tmp_path / 'coco_stuff164k/annotations/val2017'
    src.mkdir(parents=True)
    Image.fromarray(np.kron(raw, np.ones((10, 12), np.uint8))).save(src / '000000000139.png')
    run_tool('prepare_coco_object', [str(src), str(dst)])
    img_dir = tmp_path / 'coco_stuff164k/images/val2017'
    img_dir.mkdir(parents=True)
    Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(img_dir / '000000000139.jpg')
    ds = _build(dict(type='COCOObjectDataset', data_root=str(tmp_path / 'coco_stuff164k'),
                     data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017')))
    assert len(ds) == 1 and len(ds.metainfo['classes']) == 81 and ds.metainfo['classes'][:2] == ('background', 'person')
    gt = _load(81)(ds.get_data_info(0))['gt_seg_map']
    assert gt[0, 0] == 1 and gt[0, -1] == 80 and gt[-1, 0] == 0 and gt[-1, -1] == 255


@pytest.mark.parametrize('kind', ['ade847', 'pc459'])
def test_wide_label_datasets(kind, tmp_path):
    n = 847 if kind == 'ade847' else 459
    classes = tmp_path / 'classes.txt'
    classes.write_text('\n'.join(f'class {i}' for i in range(n)) + '\n')
    if kind == 'ade847':
        root, img, ann = tmp_path / 'ADE20K_2021_17_01', 'images_detectron2/validation', 'annotations_detectron2/validation'
        typ, stem = 'ADE847Dataset', 'ADE_val_00000001'
    else:
        root, img, ann = tmp_path / 'VOCdevkit/VOC2010', 'JPEGImages', 'annotations_detectron2/pc459_val'
        typ, stem = 'PascalContext459Dataset', '2008_000002'
    (root / img).mkdir(parents=True)
    (root / ann).mkdir(parents=True)
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(root / img / f'{stem}.jpg')
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(root / img / 'unlabelled_extra.jpg')  # not listed
    lab = np.full((6, 8), 65535, np.uint16)
    lab[:3, :4], lab[3:, 4:] = 300, n - 1
    Image.fromarray(lab).save(root / ann / f'{stem}.tif')
    ds = _build(dict(type=typ, classes_file=str(classes), data_root=str(root),
                     data_prefix=dict(img_path=img, seg_map_path=ann)))
    assert len(ds) == 1 and len(ds.metainfo['classes']) == n and ds.metainfo['classes'][1] == 'class 1'
    gt = _load(n, ignore_index=65535, wide_labels=True)(ds.get_data_info(0))['gt_seg_map']
    assert gt[0, 0] == 300 and gt[-1, -1] == n - 1 and gt[0, -1] == 65535   # not cut to 8 bits
    classes.write_text('a\nb\n')
    with pytest.raises(ValueError, match=f'classes.txt: 2 classes, {typ} has {n}'):
        _build(dict(type=typ, classes_file=str(classes), data_root=str(root),
                    data_prefix=dict(img_path=img, seg_map_path=ann)))
