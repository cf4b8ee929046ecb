"""OV datasets (classes by name, bad annotations), the OV split preparation, generated data."""
import json
import os

import pytest

from clipself.det.prepare import drop_rare, ov_split, save_json

from .tiny import register


def coco_json(annotations, categories=None, images=None):
    cats = categories or [dict(id=3, name='cat'), dict(id=1, name='dog'), dict(id=7, name='sofa', split='novel')]
    imgs = images or [dict(id=1, file_name='a.png', height=50, width=60), dict(id=2, file_name='b.png', height=50,
                                                                                 width=60)]
    anns = [dict(dict(id=i + 1, iscrowd=0, area=a['bbox'][2] * a['bbox'][3]), **a) for i, a in enumerate(annotations)]
    return dict(images=imgs, annotations=anns, categories=cats)


def dataset(tmp_path, data, **kw):
    register()
    from clipself.det import OVCocoDataset
    path = str(tmp_path / 'ann.json')
    save_json(data, path)
    return OVCocoDataset(ann_file=path, data_prefix=dict(img=str(tmp_path)), pipeline=[], test_mode=True, **kw)


def test_classes_come_from_the_file_in_id_order_and_labels_follow_names(tmp_path):
    data = coco_json([dict(image_id=1, category_id=3, bbox=[1, 1, 10, 10]),
                      dict(image_id=1, category_id=1, bbox=[5, 5, 10, 10]),
                      dict(image_id=2, category_id=7, bbox=[0, 0, 20, 20])])
    ds = dataset(tmp_path, data)
    assert ds.metainfo['classes'] == ('dog', 'cat', 'sofa')
    labels = [i['bbox_label'] for i in ds.get_data_info(0)['instances']]
    assert labels == [1, 0]
    # an explicit order (different from the file's): labels are indices into it, matched by name
    ds = dataset(tmp_path, data, metainfo=dict(classes=('sofa', 'cat')))
    assert [i['bbox_label'] for i in ds.get_data_info(0)['instances']] == [1]   # the dog is not a class here
    assert ds.skipped_annotations == {'category not in classes': 1}
    with pytest.raises(ValueError, match="\\['bed'\\] are not categories"):
        dataset(tmp_path, data, metainfo=dict(classes=('bed',)))


def test_unknown_category_is_an_error(tmp_path):
    data = coco_json([dict(image_id=1, category_id=3, bbox=[1, 1, 10, 10]),
                      dict(image_id=2, category_id=42, bbox=[1, 1, 10, 10])])
    with pytest.raises(ValueError, match='annotation 2 \\(image 2\\) refers to category 42'):
        dataset(tmp_path, data)


def test_degenerate_boxes_are_skipped_and_counted(tmp_path):
    data = coco_json([dict(image_id=1, category_id=3, bbox=[1, 1, 10, 10]),
                      dict(image_id=1, category_id=3, bbox=[5, 5, 0, 10]),        # zero width
                      dict(image_id=1, category_id=3, bbox=[70, 5, 10, 10]),      # right of the 60 px image
                      dict(image_id=1, category_id=1, bbox=[55, 40, 20, 20]),     # partly outside: kept
                      dict(image_id=2, category_id=1, bbox=[1, 1, 10, 10], iscrowd=1)])
    ds = dataset(tmp_path, data)
    inst = ds.get_data_info(0)['instances']
    assert [i['bbox'] for i in inst] == [[1, 1, 11, 11], [55, 40, 75, 60]]
    assert ds.skipped_annotations == {'zero-area or < 1 px box': 1, 'box outside the image': 1}
    assert ds.get_data_info(1)['instances'][0]['ignore_flag'] == 1


def test_lvis_images_are_found_by_coco_url(tmp_path):
    data = coco_json([dict(image_id=1, category_id=3, bbox=[1, 1, 10, 10])],
                     images=[dict(id=1, coco_url='http://images.cocodataset.org/val2017/000000000001.jpg',
                                  height=50, width=60, neg_category_ids=[], not_exhaustive_category_ids=[])])
    ds = dataset(tmp_path, data)
    assert ds.get_data_info(0)['img_path'] == os.path.join(str(tmp_path), 'val2017/000000000001.jpg')


def test_ov_split_train_keeps_base_boxes_and_images_with_one():
    data = coco_json([dict(image_id=1, category_id=3, bbox=[1, 1, 10, 10]),
                      dict(image_id=1, category_id=7, bbox=[1, 1, 10, 10]),
                      dict(image_id=2, category_id=7, bbox=[1, 1, 10, 10])],
                     categories=[dict(id=3, name='cat'), dict(id=1, name='dog'), dict(id=7, name='sofa'),
                                 dict(id=9, name='kite')])
    train = ov_split(data, classes=['cat', 'dog', 'sofa'], novel=['sofa'], train=True)
    assert [c['name'] for c in train['categories']] == ['dog', 'cat', 'sofa']   # id order, kite dropped
    assert [c['split'] for c in train['categories']] == ['base', 'base', 'novel']
    assert [a['category_id'] for a in train['annotations']] == [3]
    assert [im['id'] for im in train['images']] == [1]
    val = ov_split(data, classes=['cat', 'dog', 'sofa'], novel=['sofa'], train=False)
    assert len(val['annotations']) == 3 and len(val['images']) == 2
    assert val['ov_split']['novel_annotations'] == 2
    with pytest.raises(ValueError, match='refers to category 5'):
        ov_split(coco_json([dict(image_id=1, category_id=5, bbox=[1, 1, 2, 2])]), classes=['cat'], novel=[],
                 train=True)


def test_ov_coco_split_matches_the_vocabulary():
    from clipself.models.vocabulary import load_vocabulary
    v = load_vocabulary('coco')
    ov = load_vocabulary('ov-coco')
    data = dict(images=[], annotations=[], categories=[dict(id=i, name=n) for i, n in zip(v.ids, v.names)])
    out = ov_split(data, classes=ov.names, novel=[ov.names[i] for i in ov.where(split='novel')], train=True)
    assert len(out['categories']) == 65 and sum(c['split'] == 'novel' for c in out['categories']) == 17


def test_drop_rare():
    data = dict(images=[dict(id=1)], categories=[dict(id=1, name='a', frequency='r'), dict(id=2, name='b',
                                                                                          frequency='f')],
                annotations=[dict(id=1, image_id=1, category_id=1), dict(id=2, image_id=1, category_id=2)])
    out = drop_rare(data)
    assert [a['id'] for a in out['annotations']] == [2] and len(out['categories']) == 2
    with pytest.raises(ValueError, match='frequency'):
        drop_rare(dict(images=[], annotations=[], categories=[dict(id=1, name='a')]))


def test_prepare_ov_coco_tool(tmp_path):
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'tools'))
    from prepare_ov_coco import main
    from clipself.models.vocabulary import load_vocabulary
    v = load_vocabulary('coco')
    cats = [dict(id=i, name=n) for i, n in zip(v.ids, v.names)]
    imgs = [dict(id=1, file_name='1.jpg', height=10, width=10), dict(id=2, file_name='2.jpg', height=10, width=10)]
    anns = [dict(id=1, image_id=1, category_id=1, bbox=[0, 0, 5, 5], area=25, iscrowd=0),     # person: base
            dict(id=2, image_id=2, category_id=17, bbox=[0, 0, 5, 5], area=25, iscrowd=0)]    # cat: novel
    for split in ('train', 'val'):
        save_json(dict(images=imgs, annotations=anns, categories=cats),
                  str(tmp_path / 'annotations' / f'instances_{split}2017.json'))
    main(['--coco', str(tmp_path)])
    train = json.load(open(tmp_path / 'zero-shot' / 'instances_train2017_seen_2_65_cat.json'))
    val = json.load(open(tmp_path / 'zero-shot' / 'instances_val2017_all_2.json'))
    assert len(train['images']) == 1 and len(train['annotations']) == 1 and len(val['annotations']) == 2
    assert len(val['categories']) == 65


def test_synthetic_dataset_generation(tmp_path):
    register()
    from clipself.det import SyntheticOVCocoDataset
    gen = dict(num_images=6, seed=0, size=(64, 64), object_size=(16, 30), novel=('star', 'ring'), val_images=3)
    root = str(tmp_path / 'syn')
    train = SyntheticOVCocoDataset(data_root=root, split='train', generate=gen, pipeline=[])
    val = SyntheticOVCocoDataset(data_root=root, split='val', generate=gen, pipeline=[], test_mode=True)
    assert train.metainfo['classes'] == val.metainfo['classes'] and len(train.metainfo['classes']) == 8
    novel = {train.metainfo['classes'].index(n) for n in ('star', 'ring')}
    labels = {i['bbox_label'] for k in range(len(train)) for i in train.get_data_info(k)['instances']}
    assert labels and not labels & novel
    assert len(val) == 3 and os.path.isfile(os.path.join(root, 'val', 'annotations', 'ov_val.json'))
    assert not [p for p in os.listdir(tmp_path) if '.tmp-' in p]
    os.makedirs(tmp_path / 'other')
    with pytest.raises(FileExistsError):
        SyntheticOVCocoDataset(data_root=str(tmp_path / 'other'), split='train', generate=gen, pipeline=[])
