"""Region sampling of the CLIPSelf recipe: the grid rule, the cap, proposal filtering, 1.5x teacher boxes."""
import math

import numpy as np
import pytest

from clipself.data.sampling import enlarge_boxes, grid_boxes, grid_choices, sample_grid, sample_proposals


def test_grid_choices_follow_the_rule():
    expected = {(m, n) for m in range(1, 7) for n in range(1, 7) if math.ceil(m / 2) <= n <= min(2 * m, 6)}
    got = grid_choices(6)
    assert set(got) == expected and len(got) == len(expected) == 24  # 2 + 4 + 5 + 5 + 4 + 4
    assert (1, 1) in got and (1, 2) in got and (1, 3) not in got and (6, 3) in got and (6, 2) not in got


def test_grid_cells_tile_the_image_and_are_capped():
    cells = grid_boxes((300, 400), 3, 4)  # 3 rows, 4 columns
    assert cells.shape == (12, 4)
    np.testing.assert_allclose(cells[0], [0, 0, 100, 100])
    np.testing.assert_allclose(cells[-1], [300, 200, 400, 300])
    area = ((cells[:, 2] - cells[:, 0]) * (cells[:, 3] - cells[:, 1])).sum()
    assert area == pytest.approx(300 * 400)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(400):
        boxes = sample_grid(rng, (300, 400))
        assert 1 <= len(boxes) <= 20
        widths, heights = set(np.round(boxes[:, 2] - boxes[:, 0], 3)), set(np.round(boxes[:, 3] - boxes[:, 1], 3))
        assert len(widths) == 1 and len(heights) == 1  # all cells of one grid
        seen.add((round(300 / heights.pop()), round(400 / widths.pop())))
    assert seen == set(grid_choices(6))  # every grid gets drawn
    assert max(len(sample_grid(np.random.default_rng(s), (60, 60))) for s in range(200)) == 20  # 36 cells -> 20


def test_proposals_are_filtered_after_taking_twenty():
    rng = np.random.default_rng(0)
    tiny = np.array([[0, 0, 5, 5]] * 30, np.float32)                 # area 25 < 8^2: dropped
    good = np.array([[10, 10, 50, 40]] * 5, np.float32)
    boxes, teacher = sample_proposals(rng, np.concatenate([tiny, good]), (100, 100))
    assert len(boxes) <= 5 and (boxes == good[0]).all()               # only the good ones survive
    # the teacher crops the box enlarged 1.5x about its centre, clipped to the image
    np.testing.assert_allclose(teacher[0], [0, 2.5, 60, 47.5])
    huge = np.array([[0, 0, 3000, 3000]], np.float32)                 # area > 1024^2: dropped
    boxes, teacher = sample_proposals(rng, huge, (3000, 3000))
    np.testing.assert_allclose(boxes, [[0, 0, 750, 750]])             # fallback: the top-left quarter
    many = np.tile(good, (10, 1))
    assert len(sample_proposals(rng, many, (100, 100))[0]) == 20


def test_enlarge_boxes_clips():
    out = enlarge_boxes(np.array([[0, 0, 10, 20]], np.float32), 1.5, (15, 100))
    np.testing.assert_allclose(out, [[0, 0, 12.5, 15]])
