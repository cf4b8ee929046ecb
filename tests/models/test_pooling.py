"""roi_features / mask_pool: the values users rely on, odd inputs, and clear errors."""
import pytest
import torch
import torch.nn.functional as F

from clipself.models import build_clip, check_boxes, mask_pool, roi_features


def test_whole_image_box_on_constant_map_returns_the_constant():
    const = torch.randn(5)
    dense = const.view(1, 5, 1, 1).expand(1, 5, 7, 9).contiguous()
    feats = roi_features(dense, [torch.tensor([[0., 0., 9 * 16, 7 * 16]])], patch_size=16, normalize=False)
    torch.testing.assert_close(feats[0], const)
    torch.testing.assert_close(roi_features(dense, [torch.tensor([[0., 0., 144, 112]])], patch_size=16)[0],
                               F.normalize(const, dim=0))


def test_box_on_one_token_reads_that_token():
    dense = torch.randn(1, 4, 6, 8)
    # token (row 2, col 5) covers pixels x in [5p, 6p), y in [2p, 3p); RoIAlign aligned=True samples its centre
    # once (p = 14 checks that 84 px maps to exactly 6 tokens: 84 * float(1/14) > 6 would take 2 samples)
    feats = roi_features(dense, [torch.tensor([[5 * 14., 2 * 14., 6 * 14., 3 * 14.]])], patch_size=14,
                         normalize=False)
    torch.testing.assert_close(feats[0], dense[0, :, 2, 5])


def test_anisotropic_patch_matches_separate_scales():
    dense = torch.randn(1, 3, 4, 4)
    box = torch.tensor([[8., 16., 24., 48.]])  # with patch (16, 8): token rows 1..3, cols 1..3
    a = roi_features(dense, [box], patch_size=(16, 8), normalize=False)
    b = roi_features(dense, [box * torch.tensor([2., 1., 2., 1.])], patch_size=16, normalize=False)
    torch.testing.assert_close(a, b)


def test_batched_equals_one_by_one_and_empty_lists():
    dense = torch.randn(3, 8, 5, 7)
    boxes = [torch.tensor([[0., 0., 30., 20.], [10., 5., 60., 40.]]), torch.zeros(0, 4),
             torch.tensor([[3., 4., 50., 70.]])]
    batched = roi_features(dense, boxes, patch_size=10)
    assert batched.shape == (3, 8)
    single = torch.cat([roi_features(dense[i:i + 1], [boxes[i]], patch_size=10) for i in range(3)])
    torch.testing.assert_close(batched, single)
    assert roi_features(dense, [torch.zeros(0, 4)] * 3, patch_size=10).shape == (0, 8)


def test_bad_boxes_are_named():
    dense = torch.randn(1, 4, 4, 4)
    with pytest.raises(ValueError, match=r'boxes\[0\]\[1\].*x2 < x1'):
        roi_features(dense, [torch.tensor([[0., 0., 5., 5.], [9., 0., 2., 5.]])], patch_size=16)
    with pytest.raises(ValueError, match='outside the 64x64 image'):
        roi_features(dense, [torch.tensor([[0., 0., 80., 5.]])], patch_size=16, image_hw=(64, 64))
    clipped = check_boxes(torch.tensor([[-5., 0., 80., 70.]]), (64, 64), clip=True)
    assert clipped.tolist() == [[0., 0., 64., 64.]]
    with pytest.raises(ValueError, match=r'\[K, 4\]'):
        roi_features(dense, [torch.zeros(3)], patch_size=16)
    with pytest.raises(ValueError, match='2 box lists for a batch of 1'):
        roi_features(dense, [torch.zeros(0, 4)] * 2, patch_size=16)


def test_mask_pool_grid_masks_and_pixel_masks():
    dense = torch.randn(2, 6, 4, 5)
    m = torch.zeros(1, 4, 5, dtype=torch.bool)
    m[0, 1:3, 2:4] = True
    pooled = mask_pool(dense, [m, torch.zeros(0, 4, 5, dtype=torch.bool)], normalize=False)
    torch.testing.assert_close(pooled[0], dense[0][:, 1:3, 2:4].mean((1, 2)))
    # the same mask at pixel resolution (patch 8) pools the same tokens
    big = m.repeat_interleave(8, 1).repeat_interleave(8, 2)
    torch.testing.assert_close(mask_pool(dense[:1], [big], normalize=False), pooled)
    # a half-covered token gets half the weight
    half = torch.zeros(1, 32, 40, dtype=torch.bool)
    half[0, 0:8, 0:8] = True
    half[0, 0:8, 8:12] = True
    want = (dense[0, :, 0, 0] + 0.5 * dense[0, :, 0, 1]) / 1.5
    torch.testing.assert_close(mask_pool(dense[:1], [half], normalize=False)[0], want)
    empty = mask_pool(dense[:1], [torch.zeros(1, 4, 5, dtype=torch.bool)], normalize=False)
    assert torch.count_nonzero(empty) == 0


def test_model_roi_features_uses_its_patch_size():
    model = build_clip('ViT-Tiny-8')
    x = torch.randn(1, 3, 48, 72)
    with torch.no_grad():
        dense = model.encode_dense(x)
    box = torch.tensor([[8., 16., 40., 40.]])
    torch.testing.assert_close(model.roi_features(dense, [box]), roi_features(dense, [box], patch_size=8))
