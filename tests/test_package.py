"""Package-level promises: import cost, layout, the demo, generated data and transforms."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from clipself.data.synthetic import SHAPES, make_scene, shape_mask
from clipself.data.transforms import crop_resize_pad, enlarge_box, normalize, resize_pad


def test_import_clipself_does_not_import_mm_packages():
    code = ('import sys, clipself, clipself.models, clipself.data.synthetic, clipself.data.transforms; '
            'bad = [m for m in ("mmdet", "mmseg", "mmcv", "mmengine") if m in sys.modules]; '
            'print(",".join(bad)); sys.exit(1 if bad else 0)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0, f'imported {out.stdout.strip()} {out.stderr[-500:]}'


def test_scenes_are_seeded_and_consistent():
    a = make_scene(np.random.default_rng(3))
    b = make_scene(np.random.default_rng(3))
    np.testing.assert_array_equal(a.image, b.image)
    assert a.image.shape == (192, 192, 3) and a.image.dtype == np.uint8
    assert len(a.boxes) == len(a.masks) == len(a.labels) == len(a.names) >= 1
    for box, mask in zip(a.boxes, a.masks):
        ys, xs = np.nonzero(mask)
        assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    assert all(shape_mask(s, 32).any() for s in SHAPES)
    with pytest.raises(ValueError, match='unknown shape'):
        shape_mask('hexagon', 8)


def test_resize_pad_and_boxes():
    img = np.random.default_rng(0).integers(0, 255, (60, 120, 3), dtype=np.uint8)
    out, scale = resize_pad(img, 64)
    assert out.shape == (3, 64, 64) and scale == pytest.approx(64 / 120)
    assert (out[:, 32:] == 0).all() and (out[:, :32] > 0).any()  # 60 * 64/120 = 32 image rows, then padding
    crop = crop_resize_pad(img, (10, 10, 30, 50), 32)  # 20 wide, 40 tall -> 16 x 32, centred
    assert crop.shape == (3, 32, 32)
    assert (crop[:, :, :8] == 0).all() and (crop[:, :, 24:] == 0).all()
    # PIL rounds the box: (9.6, 10.4, 29.6, 49.5) crops the same pixels as (10, 10, 30, 50)
    torch.testing.assert_close(crop_resize_pad(img, (9.6, 10.4, 29.6, 49.5), 32), crop)
    assert enlarge_box((10, 10, 30, 50), 1.5, (60, 120)) == (5.0, 0.0, 35.0, 60.0)
    with pytest.raises(ValueError, match='empty'):
        crop_resize_pad(img, (30, 10, 30, 20), 32)
    x = normalize(torch.full((3, 2, 2), 255, dtype=torch.uint8))
    assert x.dtype == torch.float32 and x.max() > 1.5


def test_demo_runs_and_writes_its_outputs(tmp_path):
    from clipself.demo import run_demo
    res = run_demo(str(tmp_path), num_scenes=3, scene_size=96, log=lambda s: None)
    saved = json.loads((tmp_path / 'results.json').read_text())
    assert saved == res
    for key in ('rois.top1', 'maskpool.top1', 'crops.top1'):
        assert 0.0 <= saved[key] <= 1.0
    assert (tmp_path / 'dense_features.png').stat().st_size > 10_000
    assert 'rois' in (tmp_path / 'report.md').read_text()
