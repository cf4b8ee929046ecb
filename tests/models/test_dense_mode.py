"""The dense path's last-block modes (clipself.models.dense_mode): the default is today's dense path bit for bit;
DeCLIP's decoupled blocks equal their formulas written out from the weights (explicit softmax attention, RoPE from the
EVA-CLIP formula of clipself.testing.reference) on sensitised tiny EVA02 and OpenAI-style towers at an odd grid;
the mode is recorded in exports and checked by build_clip."""
import json

import pytest
import torch
from safetensors import safe_open

from clipself.models import CheckpointError, build_clip, save_safetensors
from clipself.models.dense_mode import DenseMode, encode_dense_with_context, unused_last_block_parameters
from clipself.models.last_block import LastBlock

from tests.last_block_formulas import block_parts

from .test_dense_reference import sensitise

TINY = ['EVA02-Tiny-8', 'ViT-Tiny-8']
ODD = (70, 101)  # an 8 x 12 grid with remainder pixels


@pytest.fixture(scope='module', params=TINY)
def model(request):
    torch.manual_seed(0)
    return sensitise(build_clip(request.param))


def _images(b=2, hw=ODD, seed=1):
    return torch.randn(b, 3, *hw, generator=torch.Generator().manual_seed(seed))


def _tokens_before_last(model, x):
    n = model.tower.num_blocks
    _, grid, outs = model.tower.forward_tokens(x, dense=True, out_indices=[n - 2])
    return outs[0], grid


def _direct(model, x, grid, kind, scale=True, rope=True):
    """Decoupled last block on ``x [B, N, C]`` from the weights: returns (tokens, q, k) with q, k ``[B, N, C]``."""
    q, k, v, proj, _, merge = block_parts(model, x, grid, rope=rope)
    s = q.shape[-1] ** -0.5 if scale else 1.0
    a = torch.softmax(q @ q.transpose(-1, -2) * s, dim=-1)
    if kind == 'csa':
        a = a + torch.softmax(k @ k.transpose(-1, -2) * s, dim=-1)
    return proj(merge(a @ v)), merge(q), merge(k)


def test_default_is_the_attention_free_dense_path_bit_for_bit(model):
    """No dense_mode (and 'value') runs exactly today's dense path: encode_dense, forward_features' last tap."""
    x = _images()
    assert model.dense_mode == DenseMode() and model.dense_block is None
    tokens, grid, _ = model.tower.forward_tokens(x, dense=True)  # the tower's block_without_attn
    expected = model.dense_head(tokens[:, 1:], grid)
    with torch.no_grad():
        assert torch.equal(model.encode_dense(x), expected)
        value = build_clip(model.model_name, dense_mode='value')
        value.load_state_dict(model.state_dict())
        assert torch.equal(value.encode_dense(x), expected)
        taps = model.forward_features(x, [0, model.tower.num_blocks - 1])
        assert torch.equal(taps[-1], tokens[:, 1:].transpose(1, 2).reshape(2, -1, *grid))


@pytest.mark.parametrize('kind', ['qq', 'csa'])
@pytest.mark.parametrize('switches', [dict(), dict(scale=False, rope=False)])
def test_decoupled_block_equals_its_formula(model, kind, switches):
    x = _images()
    with torch.no_grad():
        before, grid = _tokens_before_last(model, x)
        out, q, k = _direct(model, before, grid, kind, **switches)
        expected = model.dense_head(out[:, 1:], grid)
        model.set_dense_mode(dict(kind=kind, **switches))
        try:
            dense = model.encode_dense(x)
            dense2, context = encode_dense_with_context(model, x)
            taps = model.forward_features(x, [model.tower.num_blocks - 1])
        finally:
            model.set_dense_mode(None)
    assert dense.shape == (2, 64, 8, 12)
    torch.testing.assert_close(dense, expected, atol=1e-5, rtol=1e-5)
    assert torch.equal(dense2, dense)  # the context forward is the same computation
    torch.testing.assert_close(taps[0], out[:, 1:].transpose(1, 2).reshape(2, -1, *grid), atol=1e-5, rtol=1e-5)
    parts = [q, k] if kind == 'csa' else [q]
    assert len(context) == len(parts)
    for c, p in zip(context, parts):  # heads concatenated, CLS dropped
        torch.testing.assert_close(c, p[:, 1:], atol=1e-5, rtol=1e-5)
    # the decoupled block is not the attention-free one: the outputs move far beyond the tolerance
    assert (dense - model.encode_dense(x)).abs().max() > 1e-2


def test_qq_is_clearclips_block_and_batched_equals_one_by_one(model):
    x = _images(3)
    with torch.no_grad():
        clear = model.encode_dense(x, last_block=LastBlock('clearclip'))
        model.set_dense_mode('qq')
        try:
            dense = model.encode_dense(x)
            single = torch.cat([model.encode_dense(x[i:i + 1]) for i in range(3)])
        finally:
            model.set_dense_mode(None)
    torch.testing.assert_close(dense, clear, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(single, dense, atol=1e-5, rtol=1e-5)


def test_with_window_attention_in_earlier_blocks():
    torch.manual_seed(0)
    m = sensitise(build_clip('EVA02-Tiny-8', dense_mode='csa', window_attention=dict(window_size=4, blocks=[0, 1])))
    x = _images(1, (75, 61))
    with torch.no_grad():
        before, grid = _tokens_before_last(m, x)
        out, _, _ = _direct(m, before, grid, 'csa')
        torch.testing.assert_close(m.encode_dense(x), m.dense_head(out[:, 1:], grid), atol=1e-5, rtol=1e-5)


def test_unused_parameters_per_mode():
    m = build_clip('EVA02-Tiny-8')
    blk = m.tower.blocks[-1]
    ids = lambda ps: {id(p) for p in ps}  # noqa: E731
    value = ids(unused_last_block_parameters(m.tower, DenseMode('value')))
    assert value == ids(list(blk.attn.q_proj.parameters()) + list(blk.attn.k_proj.parameters()))
    qq = ids(unused_last_block_parameters(m.tower, DenseMode('qq')))
    assert qq == ids(list(blk.attn.k_proj.parameters()) + list(blk.mlp.parameters()) + list(blk.norm2.parameters()))
    csa = ids(unused_last_block_parameters(m.tower, DenseMode('csa')))
    assert csa == ids(list(blk.mlp.parameters()) + list(blk.norm2.parameters()))
    o = build_clip('ViT-Tiny-8')
    ob = o.tower.blocks[-1]
    assert ids(unused_last_block_parameters(o.tower, DenseMode('qq'))) == ids(
        list(ob.mlp.parameters()) + list(ob.ln_2.parameters()))


def test_mode_specs_and_errors():
    assert DenseMode.parse('csa') == DenseMode('csa', True, True)
    assert DenseMode.parse(dict(kind='qq', scale=False)) == DenseMode('qq', scale=False)
    assert str(DenseMode('qq', scale=False, rope=False)) == 'qq(scale=False, rope=False)'
    assert DenseMode('value', scale=False).to_dict() == {'kind': 'value'}
    with pytest.raises(ValueError, match="unknown dense_mode 'kk'"):
        DenseMode.parse('kk')
    with pytest.raises(ValueError, match=r"unknown keys \['temperature'\]"):
        DenseMode.parse(dict(kind='qq', temperature=2))
    with pytest.raises(ValueError, match='True or False'):
        DenseMode('qq', scale=1)
    with pytest.raises(ValueError, match='decoupled dense mode'):
        encode_dense_with_context(build_clip('ViT-Tiny-8'), _images(1))
    with pytest.raises(ValueError, match='has a convolution branch'):
        build_clip('ViT-Tiny-8', dense_mode='qq', conv_branch=dict(blocks=[2]))
    assert build_clip('ViT-Tiny-8', dense_mode='qq', conv_branch=dict(blocks=[0, 1])).dense_mode == DenseMode('qq')


def test_the_mode_is_recorded_and_checked_on_load(tmp_path, caplog):
    torch.manual_seed(0)
    m = build_clip('EVA02-Tiny-8', dense_mode='csa')
    from clipself.distill.export import dense_mode_metadata
    path = save_safetensors(m.clip, str(tmp_path / 'declip.safetensors'), model_name=m.model_name,
                            extra=dense_mode_metadata(m.dense_mode))
    with safe_open(path, framework='pt') as f:
        assert json.loads(f.metadata()['extra'])['dense_mode'] == {'kind': 'csa', 'scale': True, 'rope': True}
    with caplog.at_level('INFO', logger='clipself.models.factory'):
        loaded = build_clip('EVA02-Tiny-8', path)
    assert loaded.dense_mode == DenseMode('csa') and 'distilled with dense_mode csa' in caplog.text
    assert build_clip('EVA02-Tiny-8', path, dense_mode='csa').dense_mode == DenseMode('csa')
    x = _images(1)
    with torch.no_grad():
        assert torch.equal(loaded.encode_dense(x), m.encode_dense(x))
    for other in ('value', 'qq', dict(kind='csa', rope=False)):
        with pytest.raises(CheckpointError, match='was distilled with dense_mode csa'):
            build_clip('EVA02-Tiny-8', path, dense_mode=other)
    # the default mode records nothing (exports as before); files without a record take any mode
    plain = save_safetensors(m.clip, str(tmp_path / 'plain.safetensors'), model_name=m.model_name,
                             extra=dense_mode_metadata('value'))
    with safe_open(plain, framework='pt') as f:
        assert 'dense_mode' not in json.loads(f.metadata().get('extra') or '{}')
    assert build_clip('EVA02-Tiny-8', plain).dense_mode == DenseMode()
    assert build_clip('EVA02-Tiny-8', plain, dense_mode='qq').dense_mode == DenseMode('qq')
