"""The fast dense path (towers.py, pos_embed.py) equals the plain reference (reference.py) of CLIPSelf.

Random tiny towers are made *sensitive* first: timm/open_clip initialise weights with std 0.02, which
leaves attention nearly uniform, so a wrong RoPE or a wrong last block would move the outputs by less than
the tolerance. :func:`sensitise` draws every weight with unit gain (``randn / sqrt(fan_in)``), LayerNorm
scales around 1 and O(1) biases / position embeddings; the negative controls at the end check that an error
in RoPE positions or in the last block then moves the outputs by > 100x the tolerance.
"""
import math

import pytest
import timm
import torch
import torch.nn.functional as F

from clipself.models import build_clip
from clipself.models.pos_embed import eva_rope, resize_pos_embed
from clipself.testing.reference import (eva_rope_tables, reference_encode_dense, reference_encode_image,
                                       reference_forward, resize_abs_pos_embed, rotate_pairs)

ATOL = 1e-5
TOWERS = ['EVA02-Tiny-8', 'ViT-Tiny-8']  # patch 8, pre-training size 64 (8x8 grid)
SIZES = [(64, 64), (96, 128), (70, 101), (128, 56)]  # pre-training, non-square, odd (remainder), tall


def sensitise(model, seed: int = 0):
    """Redraw the image tower's weights so that attention patterns and positions matter."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.clip.visual.named_parameters():
            if p.dim() >= 2 and 'pos' not in name and 'cls' not in name:
                fan_in = p.shape[0] if name == 'proj' else p[0].numel()  # open_clip's proj is [C, D]
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
            elif name.endswith('weight') and ('norm' in name or 'ln' in name):
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))
            else:  # biases, CLS token, position embeddings
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
    return model


@pytest.fixture(scope='module', params=TOWERS)
def model(request):
    torch.manual_seed(0)
    return sensitise(build_clip(request.param))


def images(b, hw, seed=1):
    return torch.randn(b, 3, *hw, generator=torch.Generator().manual_seed(seed))


def maxdiff(a, b):
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


# -- position encodings -------------------------------------------------------------------------------

@pytest.mark.parametrize('arch', ['clipself_eva02_tiny_patch8_clip_64', 'eva02_base_patch16_clip_224',
                                  'eva02_large_patch14_clip_336'])
@pytest.mark.parametrize('grid', [(8, 8), (16, 16), (5, 9), (9, 5), (64, 64), (1, 3)])
def test_eva_rope_matches_eva_clip_formula(arch, grid):
    import clipself.models  # noqa: F401  (registers the tiny arch with timm)
    trunk = timm.create_model(arch, device='meta')  # only the RoPE settings are read
    head_dim = trunk.embed_dim // trunk.blocks[0].attn.num_heads
    sin, cos = eva_rope_tables(grid, head_dim)
    ours = eva_rope(trunk.rope, grid)
    assert ours.shape == (grid[0] * grid[1], 2 * head_dim)
    assert maxdiff(ours, torch.cat([sin, cos], dim=-1)) < ATOL


def test_eva_rope_layout():
    """Rows rotate the first half of a head, columns the second; pairs share a frequency."""
    sin, cos = eva_rope_tables((3, 4), 8)
    ang = torch.atan2(sin, cos).reshape(3, 4, 8)
    assert torch.equal(ang[..., 0::2], ang[..., 1::2])  # interleaved pairs
    assert (ang[:, :1, :4] == ang[:, :, :4]).all() and (ang[:1, :, 4:] == ang[:, :, 4:]).all()
    sin, cos = sin.reshape(3, 4, 8), cos.reshape(3, 4, 8)
    for (r, c, ch), angle in {(1, 0, 0): 16 / 3, (0, 1, 4): 16 / 4, (2, 3, 2): 2 / 3 * 16 / 10000 ** 0.5,
                              (2, 3, 6): 3 / 4 * 16 / 10000 ** 0.5}.items():  # t = i / n * 16; freqs 1, 1e-2
        torch.testing.assert_close(sin[r, c, ch], torch.tensor(math.sin(angle)))
        torch.testing.assert_close(cos[r, c, ch], torch.tensor(math.cos(angle)))
    x = torch.arange(6.)
    assert rotate_pairs(x).tolist() == [-1, 0, -3, 2, -5, 4]


@pytest.mark.parametrize('dst', [(5, 7), (3, 3), (12, 9), (8, 8)])
def test_pos_embed_resize_matches_reference_and_keeps_cls(dst):
    pe = torch.randn(1 + 8 * 8, 16, generator=torch.Generator().manual_seed(0))
    ours = resize_pos_embed(pe, (8, 8), dst)
    ref = resize_abs_pos_embed(pe, (8, 8), dst)
    assert ours.shape == (1 + dst[0] * dst[1], 16)
    assert maxdiff(ours, ref) < 1e-6
    assert torch.equal(ours[0], pe[0])  # CLS row kept as it is
    assert maxdiff(resize_pos_embed(pe[None], (8, 8), dst)[0], ref) < 1e-6  # [1, N, C] layout too


def test_pos_embed_resize_is_not_antialiased():
    """timm/open_clip resizers antialias; the CLIPSelf definition does not, and it matters when shrinking."""
    pe = torch.randn(1 + 8 * 8, 16, generator=torch.Generator().manual_seed(0))
    grid = pe[1:].reshape(8, 8, 16).permute(2, 0, 1)[None]
    aa = F.interpolate(grid, size=(5, 6), mode='bicubic', align_corners=False, antialias=True)
    aa = aa[0].permute(1, 2, 0).reshape(30, 16)
    ours = resize_pos_embed(pe, (8, 8), (5, 6))[1:]
    assert maxdiff(ours, aa) > 1e-4


# -- fast path == reference ---------------------------------------------------------------------------

@pytest.mark.parametrize('hw', SIZES)
def test_encode_dense_matches_reference(model, hw):
    x = images(2, hw)
    with torch.no_grad():
        ours, ref = model.encode_dense(x), reference_encode_dense(model.clip, x)
    p = model.patch_size
    assert ours.shape == (2, model.embed_dim, hw[0] // p[0], hw[1] // p[1])
    assert maxdiff(ours, ref) < ATOL
    torch.testing.assert_close(ours.norm(dim=1), torch.ones(2, hw[0] // p[0], hw[1] // p[1]))


@pytest.mark.parametrize('hw', SIZES)
def test_encode_image_matches_reference(model, hw):
    x = images(2, hw)
    with torch.no_grad():
        assert maxdiff(model.encode_image(x), reference_encode_image(model.clip, x)) < ATOL


def test_remainder_pixels_are_dropped(model):
    x = images(1, (70, 101))
    y = x.clone()
    y[..., 64:, :] = 5.0  # rows and columns past the last whole patch
    y[..., :, 96:] = -5.0
    with torch.no_grad():
        assert maxdiff(model.encode_dense(y), model.encode_dense(x[..., :64, :96])) < ATOL
        assert maxdiff(reference_encode_dense(model.clip, y), model.encode_dense(x)) < ATOL


def test_encode_image_at_pretraining_size_equals_open_clip(model):
    x = images(3, (64, 64))
    with torch.no_grad():
        oc = model.clip.encode_image(x, normalize=True)
        assert maxdiff(model.encode_image(x), oc) < ATOL
        assert maxdiff(reference_encode_image(model.clip, x), oc) < ATOL


@pytest.mark.parametrize('hw', [(64, 64), (70, 101)])
def test_batched_equals_one_by_one(model, hw):
    x = images(3, hw)
    with torch.no_grad():
        dense, emb = model.encode_dense(x), model.encode_image(x)
        for i in range(len(x)):
            assert maxdiff(dense[i:i + 1], model.encode_dense(x[i:i + 1])) < ATOL
            assert maxdiff(emb[i:i + 1], model.encode_image(x[i:i + 1])) < ATOL


# -- negative controls: the comparisons above would catch these errors --------------------------------

@pytest.mark.parametrize('hw', [(64, 64), (96, 128)])
def test_control_wrong_rope_positions_is_caught(hw):
    """RoPE positions ``arange(n)`` instead of ``arange(n) / n * 16`` (a naive port) must not pass."""
    torch.manual_seed(0)
    m = sensitise(build_clip('EVA02-Tiny-8'))
    x = images(2, hw)
    with torch.no_grad():
        ours = m.encode_dense(x)
        wrong = reference_encode_dense(m.clip, x, rope_ref_grid=None)
        assert maxdiff(ours, wrong) > 100 * ATOL
        assert maxdiff(ours, reference_encode_dense(m.clip, x)) < ATOL


def test_control_last_block_with_attention_is_caught(model):
    """Dense features from a last block that still attends (the plain CLS path) must not pass."""
    x = images(2, (96, 128))
    with torch.no_grad():
        tokens, (h, w) = reference_forward(model.clip, x, attention_free_last=False)
        wrong = F.normalize(tokens[:, 1:], dim=-1).transpose(1, 2).reshape(2, -1, h, w)
        assert maxdiff(model.encode_dense(x), wrong) > 100 * ATOL
