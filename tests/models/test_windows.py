"""Local window attention: each window attends within itself (+ its CLS copy), CLS copies are averaged,
padding never leaks into real tokens, one window covering the grid equals global attention."""
import pytest
import torch

from clipself.models import build_clip

TOWERS = ['EVA02-Tiny-8', 'ViT-Tiny-8']


def _manual(tower, i, x, grid, ws):
    """Window attention written as a loop: every window is its own sequence [CLS, its real tokens]."""
    h, w = grid
    c = x.shape[-1]
    patches = x[:, 1:].reshape(x.shape[0], h, w, c)
    out = torch.empty_like(patches)
    cls_outs = []
    for r0 in range(0, h, ws):
        for c0 in range(0, w, ws):
            tokens = patches[:, r0:r0 + ws, c0:c0 + ws]
            th, tw = tokens.shape[1:3]
            seq = torch.cat([x[:, :1], tokens.reshape(x.shape[0], th * tw, c)], 1)
            ctx = None
            if hasattr(tower, 'trunk') and tower.trunk.rope is not None:
                # a padded window: real tokens keep their window positions (rows/cols 0..th-1 of ws x ws)
                full = tower.window_ctx(torch.zeros(1))
                idx = (torch.arange(th)[:, None] * ws + torch.arange(tw)[None]).flatten()
                ctx = full[idx]
            res = tower.block(i, seq, ctx)
            cls_outs.append(res[:, :1])
            out[:, r0:r0 + ws, c0:c0 + ws] = res[:, 1:].reshape(x.shape[0], th, tw, c)
    return torch.cat([torch.stack(cls_outs).mean(0), out.reshape(x.shape[0], h * w, c)], 1)


@pytest.mark.parametrize('name', TOWERS)
@pytest.mark.parametrize('grid,ws', [((8, 8), 4), ((10, 7), 4)])
def test_window_block_equals_per_window_attention(name, grid, ws):
    torch.manual_seed(0)
    model = build_clip(name)
    tower = model.tower
    tower.set_window_attention(ws, [0])
    x = torch.randn(2, 1 + grid[0] * grid[1], tower.width)
    with torch.no_grad():
        ours = tower._windowed_block(0, x, None if name.startswith('ViT') else tower._rope(grid, x.device),
                                     grid=grid)
        want = _manual(tower, 0, x, grid, ws)
    torch.testing.assert_close(ours, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('name', TOWERS)
def test_one_window_over_the_grid_is_global_attention(name):
    torch.manual_seed(0)
    model = build_clip(name)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        glob = model.encode_dense(x)
        model.set_window_attention(8, [0, 1])  # 8 x 8 grid, one 8 x 8 window
        same = model.encode_dense(x)
        model.set_window_attention(4, [0, 1])
        local = model.encode_dense(x)
    torch.testing.assert_close(same, glob, rtol=0, atol=1e-6)
    assert (local - glob).abs().max() > 1e-3
    with pytest.raises(ValueError, match='outside'):
        model.set_window_attention(4, [7])


def test_build_clip_option_and_global_teacher():
    from clipself.distill.model import CLIPSelf
    model = CLIPSelf(clip=dict(model_name='EVA02-Tiny-8', window_attention=dict(window_size=4, blocks=[0, 1])))
    assert model.student.tower.window_size == 4 and model.student.tower.window_blocks == {0, 1}
    assert model.teacher.tower.window_size == 0  # the teacher is the original CLIP
