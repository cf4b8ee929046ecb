"""The last-block variants of the training-free literature against their formulas written out directly (weights read
from the state dict, explicit softmax attention, RoPE from the EVA-CLIP formula of clipself.testing.reference), on
tiny EVA02 and OpenAI-style towers at an odd grid; the default dense path is unchanged."""
import pytest
import torch
import torch.nn.functional as F

from clipself.models import build_clip
from clipself.models.last_block import LastBlock
from tests.last_block_formulas import block_parts

TINY = ['EVA02-Tiny-8', 'ViT-Tiny-8']


@pytest.fixture(scope='module')
def models():
    torch.manual_seed(0)
    return {name: build_clip(name) for name in TINY}


def _tokens_before_last(model, x):
    n = model.tower.num_blocks
    _, grid, outs = model.tower.forward_tokens(x, dense=True, out_indices=[n - 2])
    return outs[0], grid


def _direct(model, x, grid, kind, std=5.0):
    """The last block of ``kind`` on tokens ``x [B, N, C]``, written from the papers' formulas."""
    q, k, v, proj, mlp, merge = block_parts(model, x, grid)
    n = x.shape[1]
    s = q.shape[-1] ** -0.5
    if kind == 'maskclip':
        out = x + proj(merge(v))
        return out + mlp(out)
    if kind == 'sclip':
        a = torch.softmax(q @ q.transpose(-1, -2) * s, -1) + torch.softmax(k @ k.transpose(-1, -2) * s, -1)
        out = x + proj(merge(a @ v))
        return out + mlp(out)
    if kind == 'clearclip':
        return proj(merge(torch.softmax(q @ q.transpose(-1, -2) * s, -1) @ v))
    # naclip: Gaussian of the distance between token positions (row, column), zero for CLS
    gh, gw = grid
    bias = torch.zeros(n, n)
    for i in range(gh * gw):
        for j in range(gh * gw):
            d2 = (i // gw - j // gw) ** 2 + (i % gw - j % gw) ** 2
            bias[1 + i, 1 + j] = torch.exp(torch.tensor(-d2 / (2 * std ** 2)))
    return proj(merge(torch.softmax(k @ k.transpose(-1, -2) * s + bias, -1) @ v))


@pytest.mark.parametrize('name', TINY)
@pytest.mark.parametrize('kind', ['maskclip', 'sclip', 'clearclip', 'naclip'])
def test_variant_matches_direct_formula(name, kind, models):
    model = models[name]
    x = torch.randn(2, 3, 40, 56)  # 5 x 7 grid
    std = 2.0 if kind == 'naclip' else 5.0  # a std of the grid's scale: the bias varies across it
    with torch.no_grad():
        tokens, grid = _tokens_before_last(model, x)
        expected = _direct(model, tokens, grid, kind, std)
        expected = F.normalize(model.tower.head(expected[:, 1:]), dim=-1).transpose(1, 2).reshape(2, -1, *grid)
        got = model.encode_dense(x, last_block=LastBlock(kind, gaussian_std=std))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    if kind != 'maskclip':  # the variants differ from CLIPSelf's block
        assert (got - model.encode_dense(x)).abs().max() > 1e-3


@pytest.mark.parametrize('name', TINY)
def test_default_dense_path_is_unchanged(name, models):
    model = models[name]
    x = torch.randn(1, 3, 48, 40)
    with torch.no_grad():
        plain = model.encode_dense(x)
        assert torch.equal(plain, model.encode_dense(x, last_block=None))
        assert torch.equal(plain, model.encode_dense(x, last_block=LastBlock('maskclip')))
        # batched == one by one for a variant
        both = model.encode_dense(torch.cat([x, x.flip(-1)]), last_block=LastBlock('naclip'))
        one = model.encode_dense(x.flip(-1), last_block=LastBlock('naclip'))
    torch.testing.assert_close(both[1:], one, rtol=1e-5, atol=1e-6)


def test_bad_variant():
    with pytest.raises(ValueError, match='unknown last block'):
        LastBlock('gem')
    with pytest.raises(ValueError, match='gaussian_std'):
        LastBlock('naclip', gaussian_std=0)
