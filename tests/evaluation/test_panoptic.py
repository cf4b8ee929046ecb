"""The COCO panoptic region loader on a hand-made fixture: boxes, labels, masks, crops, the cases that break
naive loaders (tiny regions, split stuff, no things, unknown categories, missing PNGs)."""
import json
import logging
import os

import numpy as np
import pytest
import torch
from PIL import Image

from clipself.data.panoptic import COCOPanopticRegionDataset, load_panoptic_json, mask_box, rgb2id
from clipself.data.synthetic_coco import id2rgb, write_synthetic_coco
from clipself.data.transforms import crop_resize_pad, enlarge_box

from .panoptic_fixture import ISTHING, NAMES, dataset_kwargs, write_fixture


@pytest.fixture(scope='module')
def fixture_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('panoptic')
    data = write_fixture(str(root))
    return str(root), data


def test_rgb2id_inverts_the_png_encoding():
    ids = np.array([[0, 1, 255], [256, 65535, 65536 * 3 + 7]])
    np.testing.assert_array_equal(rgb2id(id2rgb(ids)), ids)
    assert mask_box(np.zeros((3, 3), bool)) is None
    m = np.zeros((5, 6), bool)
    m[1, 2] = m[3, 4] = True
    assert mask_box(m) == (2.0, 1.0, 5.0, 4.0)  # pixel edges: x2 = max x + 1


def test_classes_come_from_the_json_in_sorted_id_order(fixture_root):
    root, _ = fixture_root
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=32))
    assert list(ds.classes.names) == NAMES and list(ds.classes.isthing) == ISTHING
    assert list(ds.classes.ids) == [1, 3, 17, 40]
    assert ds.metainfo['classes'] == tuple(NAMES) and len(ds) == 3


def test_regions_of_the_busy_image(fixture_root):
    root, data = fixture_root
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=128, crop_size=32, stuff_box_end='edge'))
    item = ds[0]  # image 1: 64 x 48, dense 128 -> scale 2
    assert item['image_id'] == 1 and item['scale'] == 2.0 and item['image'].shape == (3, 128, 128)
    # json order: sky, grass (two parts), cat, dog, tiny cat; the 4x4 dog is filtered, category 99 skipped,
    # the dog absent from the PNG skipped
    assert item['labels'].tolist() == [2, 3, 0, 1, 0]
    assert item['isthing'].tolist() == [False, False, True, True, True]
    expected = torch.tensor([[0, 0, 64, 48], [0, 40, 64, 48], [4, 4, 28, 20], [40, 22, 56, 38], [10, 26, 19, 34]],
                            dtype=torch.float32)
    torch.testing.assert_close(item['boxes'], expected * 2)
    assert (item['num_filtered'], item['num_unknown'], item['num_not_in_png']) == (1, 1, 1)
    ids, rm = data[1]['ids'], item['region_map'].numpy()
    assert rm.shape == (48, 64)
    for k, sid in enumerate([1001, 1002, 7, 8, 9]):
        np.testing.assert_array_equal(rm == k, ids == sid)
    assert (rm[ids == 11] == -1).all() and (rm[ids == 10] == -1).all()  # unknown and filtered: no region
    # the split grass segment is one region covering both parts
    assert (rm[40:48, 0:20] == 1).all() and (rm[40:48, 44:64] == 1).all() and (rm[40:48, 20:44] != 1).all()
    # crops: the box enlarged 1.5x, clipped, cut from the ORIGINAL image
    assert item['crops'].shape == (5, 3, 32, 32) and item['crops'].dtype == torch.uint8
    torch.testing.assert_close(item['crops'][2], crop_resize_pad(data[1]['image'],
                                                                 enlarge_box((4, 4, 28, 20), 1.5, (48, 64)), 32))


def test_image_without_things_and_stuff_crop_scale(fixture_root):
    root, data = fixture_root
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=48, crop_size=16, stuff_crop_scale=1.0,
                                                    stuff_box_end='edge'))
    item = ds[1]
    assert item['isthing'].tolist() == [False, False] and item['labels'].tolist() == [2, 3]
    torch.testing.assert_close(item['boxes'], torch.tensor([[0., 0, 48, 20], [0, 20, 48, 32]]))
    torch.testing.assert_close(item['crops'][1], crop_resize_pad(data[2]['image'], (0, 20, 48, 32), 16))


def test_size_filter_and_empty_images(tmp_path, fixture_root):
    root, _ = fixture_root
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=16, min_size=30, max_size=40))
    item = ds[0]  # only boxes with 900 <= area <= 1600 survive: none
    assert len(item['labels']) == 0 and item['boxes'].shape == (0, 4) and item['crops'].shape == (0, 3, 16, 16)
    assert (item['region_map'] == -1).all() and item['num_filtered'] == 6


def test_unknown_categories_warn_once_at_load(fixture_root, caplog):
    root, _ = fixture_root
    with caplog.at_level(logging.WARNING):
        _, images, unknown = load_panoptic_json(f'{root}/annotations/panoptic.json')
    assert unknown == 1 and [im['num_unknown'] for im in images] == [1, 0, 0]
    assert sum('category ids not among its categories' in r.message for r in caplog.records) == 1


def test_missing_png_is_an_error_naming_the_file(tmp_path):
    write_fixture(str(tmp_path), drop_png_of=3)
    ds = COCOPanopticRegionDataset(**dataset_kwargs(str(tmp_path), dense_size=32, crop_size=16))
    ds[0]
    with pytest.raises(FileNotFoundError, match=r'panoptic PNG not found: .*000003\.png'):
        ds[2]


def test_bad_json_is_an_error(tmp_path):
    write_fixture(str(tmp_path))
    path = tmp_path / 'annotations' / 'panoptic.json'
    data = json.loads(path.read_text())
    del data['categories'][0]['isthing']
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='isthing'):
        COCOPanopticRegionDataset(**dataset_kwargs(str(tmp_path)))
    with pytest.raises(FileNotFoundError, match='nowhere.json'):
        COCOPanopticRegionDataset(data_root=str(tmp_path), ann_file='nowhere.json', img_dir='', seg_dir='')


def test_generated_world_goes_through_the_loader(tmp_path):
    write_synthetic_coco(str(tmp_path), num_images=3, seed=5, size=(96, 128), num_objects=(0, 2))
    ds = COCOPanopticRegionDataset(data_root=str(tmp_path), ann_file='annotations/panoptic.json', img_dir='images',
                                   seg_dir='annotations/panoptic', dense_size=64, crop_size=32)
    assert len(ds.classes) == 10 and sum(ds.classes.isthing) == 8
    for i in range(len(ds)):
        item = ds[i]
        assert (~item['isthing']).sum() == 1  # one background stuff region per scene
        assert len(item['labels']) == len(item['boxes']) == len(item['crops'])
        assert int(item['region_map'].max()) == len(item['labels']) - 1


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_generated_proposals_frame_every_object_and_leave_the_scenes_alone(tmp_path):
    """Honest proposals: ``proposals_per_object`` jittered boxes around each object (none exactly the object's
    box) plus false ones; the scenes of a seed are the same whatever the number of proposals."""
    paths = {k: write_synthetic_coco(str(tmp_path / f'p{k}'), num_images=4, seed=3, size=(96, 96),
                                     proposals_per_object=k, false_proposals=2) for k in (1, 6)}
    for k, p in paths.items():
        objects = json.load(open(p['instances']))['annotations']
        props = json.load(open(p['proposals']))
        xyxy = lambda b: (b[0], b[1], b[0] + b[2], b[1] + b[3])  # noqa: E731
        for obj in objects:
            mine = [xyxy(q['bbox']) for q in props if q['image_id'] == obj['image_id']]
            ious = sorted(_iou(xyxy(obj['bbox']), q) for q in mine)
            assert ious[-1] < 0.999  # never the exact ground truth
            if k > 1:
                assert sum(i > 0.5 for i in ious) >= k // 2
        assert len(objects) * k * 0.9 + 4 * 2 <= len(props) <= len(objects) * k + 4 * 2
    imgs = [sorted(os.listdir(p['images'])) for p in paths.values()]
    assert imgs[0] == imgs[1]
    for name in imgs[0]:
        a, b = (np.asarray(Image.open(os.path.join(p['images'], name))) for p in paths.values())
        np.testing.assert_array_equal(a, b)
