"""The region-classification protocol defaults to the reference evaluation's (prompts from the names as written,
stuff crops not enlarged, stuff boxes ending on the last mask pixel, masks resized to the grid bicubic without
antialiasing then ``> 0``, at most 100 segments), and each knob switches back to clipself's earlier choice."""
import math
import os

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from mmengine.config import Config

from clipself.data.panoptic import COCOPanopticRegionDataset, mask_box
from clipself.data.transforms import crop_resize_pad, enlarge_box
from clipself.engine.region_eval import CLIPRegionClassifier
from clipself.evaluation.class_embeddings import prompt_names, reference_prompt_name
from clipself.evaluation.grid_masks import region_masks_on_grid, resize_longest_masks
from clipself.evaluation.predict import region_features

from .panoptic_fixture import dataset_kwargs, write_fixture
from .stubs import StubCLIP

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EARLIER = dict(stuff_crop_scale=None, stuff_box_end='edge', max_segments=None)  # clipself's earlier choices


@pytest.fixture(scope='module')
def fixture_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('panoptic_reference')
    return str(root), write_fixture(str(root))


# -- masks on the token grid -------------------------------------------------------------------------------
def _keys_cubic(t: np.ndarray, a: float = -0.75) -> np.ndarray:
    t = np.abs(t)
    return np.where(t <= 1, (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1,
                    np.where(t < 2, a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a, 0.0))


def _bicubic_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``[n_out, n_in]``: half-pixel centres, 4 taps of the Keys kernel (a = -0.75), edge taps clamped, no
    antialiasing (what torch's bicubic resize computes along one axis)."""
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        x = (i + 0.5) * n_in / n_out - 0.5
        x0 = math.floor(x)
        for k in (-1, 0, 1, 2):
            m[i, min(max(x0 + k, 0), n_in - 1)] += _keys_cubic(np.array(x0 + k - x))
    return m


def test_reference_masks_equal_a_direct_bicubic_computation():
    """A 45 x 70 image with an ellipse, a thin bar and a 3x2 speck, grid 8: the masks are the direct separable
    bicubic resize (float64) to round(45 * 8 / 70) x 8 = 5 x 8, padded, ``> 0``; equal to torchvision's
    ``resize(..., antialias=False)`` + pad (the reference's call on torchvision < 0.17), and not to today's
    antialiased default."""
    h, w, g = 45, 70, 8
    yy, xx = np.mgrid[:h, :w]
    rm = -np.ones((h, w), np.int64)
    rm[((yy - 20) / 12.0) ** 2 + ((xx - 30) / 20.0) ** 2 <= 1] = 0
    rm[40:43, 5:65] = 1
    rm[3:6, 60:62] = 2
    masks = resize_longest_masks(torch.from_numpy(rm), 3, grid_hw=(g, g))
    assert masks.shape == (3, g, g) and set(masks.unique().tolist()) <= {0.0, 1.0}
    nh, nw = round(h * g / w), g
    assert (nh, nw) == (5, 8)
    my, mx = _bicubic_matrix(h, nh), _bicubic_matrix(w, nw)
    for k in range(3):
        direct = np.zeros((g, g))
        direct[:nh, :nw] = my @ (rm == k).astype(np.float64) @ mx.T
        clear = np.abs(direct) > 1e-6  # away from float round-off at exactly-cancelling taps
        np.testing.assert_array_equal(masks[k].numpy()[clear], (direct > 0)[clear], err_msg=f'region {k}')
        assert masks[k].numpy()[direct == 0].sum() == 0
        tv = TF.resize(torch.from_numpy(rm == k).float()[None], [nh, nw], TF.InterpolationMode.BICUBIC,
                       antialias=False)
        tv = TF.pad(tv, [0, 0, g - nw, g - nh], fill=0)[0] > 0
        torch.testing.assert_close(masks[k], tv.float())
    smoothed = [TF.pad(TF.resize(torch.from_numpy(rm == k).float()[None], [nh, nw], TF.InterpolationMode.BICUBIC,
                                 antialias=True), [0, 0, g - nw, g - nh])[0] > 0 for k in range(3)]
    assert any(not torch.equal(masks[k].bool(), smoothed[k]) for k in range(3))  # antialiasing matters
    assert masks[:, nh:].sum() == 0  # padding rows


def test_mask_weight_options(fixture_root):
    root, _ = fixture_root
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=16))
    item = ds[0]
    stub = StubCLIP(patch=16, mode='random', dim=6, seed=3)
    k = len(item['labels'])
    batch = dict(images=[item['image']], boxes=[item['boxes']], crops=[item['crops']],
                 region_maps=[item['region_map']], scales=[item['scale']])
    dense = stub.encode_dense(item['image'][None].float() / 255)
    for option, masks in [
            ('reference', resize_longest_masks(item['region_map'], k, grid_hw=(4, 4))),
            ('area', region_masks_on_grid(item['region_map'], k, scale=item['scale'], patch_size=16, grid_hw=(4, 4))),
            ('binary', (region_masks_on_grid(item['region_map'], k, scale=item['scale'], patch_size=16,
                                             grid_hw=(4, 4)) > 0).float())]:
        got = region_features(stub, kinds=('maskpool',), mask_weights=option, **batch)['maskpool']
        torch.testing.assert_close(got, stub.mask_pool(dense, [masks]), msg=option)
    default = region_features(stub, kinds=('maskpool',), **batch)['maskpool']
    torch.testing.assert_close(default, region_features(stub, kinds=('maskpool',), mask_weights='reference',
                                                        **batch)['maskpool'])
    with pytest.raises(ValueError, match='mask_weights'):
        region_features(stub, kinds=('maskpool',), mask_weights='soft', **batch)


# -- regions -------------------------------------------------------------------------------------------------
def test_dataset_defaults_are_the_reference_protocol(fixture_root):
    """Image 1 (64 x 48): stuff boxes end on the last pixel of the mask, stuff crops are the box itself; the
    earlier options give the edge boxes and the 1.5x crops back."""
    root, data = fixture_root
    ref = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=16))
    assert (ref.stuff_crop_scale, ref.stuff_box_end, ref.max_segments) == (1.0, 'last_pixel', 100)
    old = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=16, **EARLIER))
    a, b = ref[0], old[0]
    # sky (0, 0)-(63, 47) and grass (0, 40)-(63, 47) as the reference's mask2box; cat / dog boxes unchanged
    torch.testing.assert_close(a['boxes'][:2], torch.tensor([[0., 0, 63, 47], [0, 40, 63, 47]]))
    torch.testing.assert_close(b['boxes'][:2], torch.tensor([[0., 0, 64, 48], [0, 40, 64, 48]]))
    torch.testing.assert_close(a['boxes'][2:], b['boxes'][2:])
    img = data[1]['image']
    torch.testing.assert_close(a['crops'][1], crop_resize_pad(img, (0, 40, 63, 47), 16))
    torch.testing.assert_close(b['crops'][1], crop_resize_pad(img, enlarge_box((0, 40, 64, 48), 1.5, (48, 64)), 16))
    torch.testing.assert_close(a['crops'][2], b['crops'][2])  # things: 1.5x either way
    m = np.zeros((5, 6), bool)
    m[1, 2] = m[3, 4] = True
    assert mask_box(m, 'last_pixel') == (2.0, 1.0, 4.0, 3.0) and mask_box(m, 'edge') == (2.0, 1.0, 5.0, 4.0)
    with pytest.raises(ValueError, match='stuff_box_end'):
        COCOPanopticRegionDataset(**dataset_kwargs(root, stuff_box_end='inclusive'))


def test_at_most_max_segments_counted_before_the_size_filter(fixture_root):
    """Image 1 lists sky, grass, cat, dog, tiny cat, the 4x4 dog (too small) ...: with 5 segments the tiny cat is
    the last candidate; with 6 the 4x4 dog takes the sixth place and is then filtered."""
    root, _ = fixture_root
    five = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=16, max_segments=5))[0]
    assert five['labels'].tolist() == [2, 3, 0, 1, 0] and five['num_beyond_max'] == 2 and five['num_filtered'] == 0
    two = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=16, max_segments=2))[0]
    assert two['labels'].tolist() == [2, 3] and two['num_beyond_max'] == 5
    assert int(two['region_map'].max()) == 1
    full = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=16, max_segments=None))[0]
    assert full['num_beyond_max'] == 0 and full['num_filtered'] == 1
    with pytest.raises(ValueError, match='max_segments'):
        COCOPanopticRegionDataset(**dataset_kwargs(root, max_segments=0))


# -- prompts -----------------------------------------------------------------------------------------------------
def test_prompt_names_as_the_reference_writes_them():
    names = ['wall-other-merged', 'door-stuff', 'bolt_(for_a_door)', 'cabinet/shelf', 'Band_Aid', 'tv.']
    assert prompt_names(names, 'reference') == ['wall-other-merged', 'door-stuff', 'bolt (for a door)',
                                                'cabinet or shelf', 'band aid', 'tv']
    assert prompt_names(names, 'display')[:2] == ['wall', 'door']
    assert reference_prompt_name('playingfield') == 'playingfield'
    with pytest.raises(ValueError, match='prompt names'):
        prompt_names(names, 'clean')


def test_classifier_defaults_and_options(fixture_root, monkeypatch):
    import clipself.evaluation.class_embeddings as ce
    root, _ = fixture_root
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=32))
    seen = []

    def fake(model, names, templates='vild'):
        seen.append(list(names))
        return torch.eye(len(names), 5)
    monkeypatch.setattr(ce, 'build_text_embeddings', fake)
    stub = StubCLIP(patch=1)
    clf = CLIPRegionClassifier(clip=stub, cache_dir=None)
    assert (clf.mask_weights, clf.prompt_names) == ('reference', 'reference')
    clf.class_embeddings_for(ds.classes)
    CLIPRegionClassifier(clip=stub, cache_dir=None, prompt_names='display').class_embeddings_for(ds.classes)
    assert seen == [['cat', 'dog', 'sky-other-merged', 'grass-merged'], ['cat', 'dog', 'sky', 'grass']]
    with pytest.raises(ValueError, match='prompt_names'):
        CLIPRegionClassifier(clip=stub, prompt_names='clean')


# -- configs -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', ['region-cls_eva02-b16_coco-panoptic.py', 'region-cls_eva02-l14-336_coco-panoptic.py',
                                  'region-cls_vit-b16_coco-panoptic.py', 'region-cls_vit-l14-336_coco-panoptic.py',
                                  'clipself_eva02-b16_coco-patches_6e.py'])
def test_coco_configs_use_the_reference_protocol(name):
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'clipself', name))
    ds = cfg.test_dataloader.dataset
    assert (ds.crop_scale, ds.stuff_crop_scale, ds.stuff_box_end, ds.max_segments) == (1.5, 1.0, 'last_pixel', 100)
    assert (ds.min_size, ds.max_size) == (8, 1024)
    model = cfg.model if cfg.model.type == 'CLIPRegionClassifier' else cfg.model.eval_cfg
    assert model.get('prompt_names', 'reference') == 'reference'
    assert model.get('mask_weights', 'reference') == 'reference'
    assert model.templates == 'vild'


@pytest.mark.parametrize('name', ['region-cls_tiny_synthetic.py', 'clipself_tiny_synthetic.py'])
def test_generated_world_configs_keep_the_earlier_choices(name):
    """The demo's figures were measured with clipself's earlier protocol: its configs state it."""
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'clipself', name))
    ds = cfg.test_dataloader.dataset
    assert (ds.stuff_crop_scale, ds.stuff_box_end, ds.max_segments) == (None, 'edge', None)
    model = cfg.model if cfg.model.type == 'CLIPRegionClassifier' else cfg.model.eval_cfg
    assert (model.prompt_names, model.mask_weights) == ('display', 'area')
