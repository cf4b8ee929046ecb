"""Region masks on the token grid equal the covered fraction of each token, at any scale."""
import numpy as np
import pytest
import torch

from clipself.evaluation.grid_masks import region_masks_on_grid


def _brute_force(region_map: np.ndarray, k: int, scale: float, patch: int, grid) -> np.ndarray:
    """Sub-sample every original pixel q x q times, map each sample to its token, count (error per token
    below 2 / 80: a sample spans at most 1/80 of a token)."""
    q = max(24, int(np.ceil(80 * scale / patch)))
    h, w = region_map.shape
    gh, gw = grid
    out = np.zeros((k, gh, gw))
    offs = (np.arange(q) + 0.5) / q
    ys = ((np.arange(h)[:, None] + offs[None]) * scale / patch).reshape(-1)  # token units
    xs = ((np.arange(w)[:, None] + offs[None]) * scale / patch).reshape(-1)
    iy, ix = np.floor(ys).astype(int), np.floor(xs).astype(int)
    reg = np.repeat(np.repeat(region_map, q, 0), q, 1)
    ok = (reg >= 0) & (iy[:, None] < gh) & (ix[None, :] < gw)
    yy, xx = np.broadcast_to(iy[:, None], reg.shape), np.broadcast_to(ix[None, :], reg.shape)
    np.add.at(out, (reg[ok], yy[ok], xx[ok]), 1.0)
    return out * (scale / patch) ** 2 / q ** 2  # each sample covers (scale/q)^2 dense px of a p^2 token


@pytest.mark.parametrize('hw,scale,patch', [((12, 17), 256 / 17, 16), ((37, 23), 0.7, 4), ((20, 20), 1.0, 8),
                                            ((9, 13), 3.3, 2)])
def test_fractions_match_brute_force(hw, scale, patch):
    rng = np.random.default_rng(0)
    rm = rng.integers(-1, 4, hw)
    rm[:3, :3] = 4  # a small region
    size = int(np.ceil(max(hw) * scale))
    grid = (size // patch, size // patch)
    got = region_masks_on_grid(torch.from_numpy(rm), 5, scale=scale, patch_size=patch, grid_hw=grid).numpy()
    want = _brute_force(rm, 5, scale, patch, grid)
    assert got.shape == (5, *grid)
    np.testing.assert_allclose(got, want, atol=0.026)
    assert got.sum(0).max() <= 1 + 1e-5  # a token is never covered more than fully
    assert got.sum() == pytest.approx(want.sum(), rel=1e-3)  # no covered area lost or invented


def test_aligned_scale_is_exact_and_tiny_regions_survive():
    rm = -np.ones((32, 32), np.int64)
    rm[0:8, 0:8] = 0             # exactly token (0, 0) at scale 1, patch 8
    rm[13:15, 20:21] = 1         # 2 pixels: far smaller than a patch
    got = region_masks_on_grid(torch.from_numpy(rm), 2, scale=1.0, patch_size=8, grid_hw=(4, 4))
    assert got[0, 0, 0] == 1 and got[0].sum() == 1
    assert got[1, 1, 2] == pytest.approx(2 / 64) and got[1].sum() == pytest.approx(2 / 64)
    # downscaled 10x, the 2-pixel region still weighs on its token
    small = region_masks_on_grid(torch.from_numpy(rm), 2, scale=0.1, patch_size=2, grid_hw=(2, 2))
    assert small[1].sum() > 0 and small[1].argmax() == 1  # token (0, 1)


def test_empty_and_invalid():
    rm = torch.full((5, 5), -1)
    assert region_masks_on_grid(rm, 0, scale=1.0, patch_size=1, grid_hw=(5, 5)).shape == (0, 5, 5)
    with pytest.raises(ValueError, match='num_regions'):
        region_masks_on_grid(torch.zeros(5, 5, dtype=torch.long) + 2, 2, scale=1.0, patch_size=1, grid_hw=(5, 5))
