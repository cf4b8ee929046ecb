"""Tower options from the literature: ReViT residual attention and ViTAEv2 convolution branches. Off by default;
at their initial identity values the CLIP is unchanged bit for bit; they mix / convolve as the papers say; they
train, save and load with the CLIP; bad values are clear errors."""
import pytest
import torch

from clipself.models import CheckpointError, build_clip, save_safetensors
from clipself.models import variants as variants_mod
from clipself.models.conv_branch import ConvBranch
from clipself.models.residual_attention import residual_attention

TOWERS = ['EVA02-Tiny-8', 'ViT-Tiny-8']


def _pair(name, **options):
    """(plain CLIP, the same weights with ``options``)."""
    torch.manual_seed(0)
    plain = build_clip(name)
    other = build_clip(name, **options)
    missing, unexpected = other.clip.load_state_dict(plain.clip.state_dict(), strict=False)
    assert not unexpected and all(k.startswith('visual.clipself_variants.') for k in missing)
    return plain, other


def _outputs(model, x):
    with torch.no_grad():
        return model.encode_dense(x), model.encode_image(x), model.forward_features(x, [0, 1])


def _equal(a, b):
    return all(torch.equal(u, v) for u, v in zip(torch.utils._pytree.tree_leaves(a),
                                                   torch.utils._pytree.tree_leaves(b)))


def test_off_by_default():
    model = build_clip('EVA02-Tiny-8')
    assert model.variants is None and model.variant_parameters() == []
    assert not any('clipself_variants' in k for k in model.state_dict())


# -- ReViT residual attention -------------------------------------------------------------------------------
@pytest.mark.parametrize('name', TOWERS)
@pytest.mark.parametrize('window', [None, dict(window_size=4, blocks=[0, 1])])
def test_alpha_one_is_the_unchanged_clip_bit_for_bit(name, window):
    plain, res = _pair(name, residual_attention=dict(alpha=1.0))
    for m in (plain, res):
        if window:
            m.set_window_attention(**window)
    x = torch.randn(2, 3, 72, 56)  # a 9 x 7 grid: padded windows
    assert _equal(_outputs(plain, x), _outputs(res, x))


@pytest.mark.parametrize('name', TOWERS)
def test_explicit_scores_at_alpha_one_match_the_fused_attention(name):
    # with a gradient wanted for alpha the scores are computed explicitly (q/k/RoPE written out for timm's Eva)
    plain, res = _pair(name, residual_attention=dict(alpha=1.0))
    x = torch.randn(2, 3, 64, 48)
    with torch.no_grad():
        want = plain.encode_dense(x)
    got = res.encode_dense(x)
    assert got.requires_grad
    torch.testing.assert_close(got.detach(), want, rtol=1e-4, atol=1e-5)
    got.sum().backward()
    assert res.variants.residual.alpha.grad is not None and res.variants.residual.alpha.grad != 0


def _naive(q, k, v, alpha, prev, mask=None):
    s = (q @ k.transpose(-2, -1)) / q.shape[-1] ** 0.5
    if prev is not None:
        s = alpha * s + (1 - alpha) * prev
    logits = s if mask is None else s.masked_fill(~mask, float('-inf'))
    return logits.softmax(-1) @ v, s


@pytest.mark.parametrize('with_mask', [False, True])
def test_residual_attention_mixes_pre_softmax_scores(with_mask):
    torch.manual_seed(0)
    q, k, v = (torch.randn(3, 2, 5, 4) for _ in range(3))
    prev = torch.randn(3, 2, 5, 5)
    mask = torch.rand(3, 1, 1, 5) > 0.3 if with_mask else None
    if mask is not None:
        mask[..., 0] = True
    alpha = torch.tensor(0.3)
    want_out, want_s = _naive(q, k, v, 0.3, prev, mask)
    out, s = residual_attention(q, k, v, alpha=alpha.requires_grad_(), prev=prev, attn_mask=mask)  # autograd
    torch.testing.assert_close(out, want_out)
    torch.testing.assert_close(s, want_s)
    with torch.no_grad():  # inference: per head, the carried tensor updated in place
        carried = prev.clone()
        out2, s2 = residual_attention(q, k, v, alpha=alpha, prev=carried, attn_mask=mask)
    assert s2.data_ptr() == carried.data_ptr()
    torch.testing.assert_close(out2, want_out)
    torch.testing.assert_close(s2, want_s)
    first_out, first_s = residual_attention(q, k, v, alpha=alpha, prev=None)  # the first block: S' = S
    torch.testing.assert_close(first_s, _naive(q, k, v, 0.3, None)[1])
    with pytest.raises(ValueError, match='do not fit'):
        residual_attention(q, k, v, alpha=alpha, prev=torch.zeros(3, 2, 4, 4))


@pytest.mark.parametrize('window', [False, True])
def test_scores_are_carried_block_to_block_and_skip_the_attention_free_block(monkeypatch, window):
    calls = []

    def spy(q, k, v, *, alpha, prev=None, attn_mask=None, dropout_p=0.0):
        seen = None if prev is None else prev.clone()  # (updated in place without gradients)
        out, s = residual_attention(q, k, v, alpha=alpha, prev=prev, attn_mask=attn_mask, dropout_p=dropout_p)
        calls.append((seen, s.clone(), tuple(q.shape)))
        return out, s
    monkeypatch.setattr(variants_mod, 'residual_attention', spy)
    torch.manual_seed(0)
    model = build_clip('ViT-Tiny-8', residual_attention=dict(alpha=0.5))
    if window:
        model.set_window_attention(4, [0, 1])
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        model.encode_dense(x)
    assert len(calls) == 2  # blocks 0 and 1 attend; the dense path's last block does not
    assert calls[0][0] is None and torch.equal(calls[1][0], calls[0][1])
    calls.clear()
    if window:  # block 2 attends globally: another layout, so it starts afresh
        with torch.no_grad():
            model.encode_image(x)
        assert len(calls) == 3 and calls[2][0] is None and calls[2][2][-2] == 65
    else:
        with torch.no_grad():
            model.encode_image(x)
        assert len(calls) == 3 and torch.equal(calls[2][0], calls[1][1])


def test_alpha_below_one_changes_the_features_and_is_checked():
    plain, res = _pair('EVA02-Tiny-8', residual_attention=dict(alpha=0.5))
    x = torch.randn(1, 3, 64, 64)
    assert not torch.allclose(_outputs(plain, x)[0], _outputs(res, x)[0], atol=1e-4)
    for bad in (1.5, -0.1, 'x'):
        with pytest.raises(ValueError, match=r'alpha must'):
            build_clip('ViT-Tiny-8', residual_attention=dict(alpha=bad))
    with pytest.raises(ValueError, match='unknown keys'):
        build_clip('ViT-Tiny-8', residual_attention=dict(alpha=0.5, blocks=[0]))


# -- ViTAEv2 convolution branch -----------------------------------------------------------------------------
@pytest.mark.parametrize('name', TOWERS)
@pytest.mark.parametrize('window', [None, dict(window_size=4, blocks=[0, 1])])
def test_zero_initialised_conv_branch_is_the_unchanged_clip_bit_for_bit(name, window):
    plain, conv = _pair(name, conv_branch=dict(blocks=[0, 1, 2]))
    for m in (plain, conv):
        if window:
            m.set_window_attention(**window)
    x = torch.randn(2, 3, 72, 56)  # odd 9 x 7 grid
    assert _equal(_outputs(plain, x), _outputs(conv, x))
    conv.train(), plain.train()  # BatchNorm in training mode: still adds exactly 0
    with torch.no_grad():
        assert torch.equal(conv.encode_dense(x), plain.encode_dense(x))


@pytest.mark.parametrize('name', TOWERS)
def test_trained_conv_branch_changes_the_tokens_of_its_block(name):
    plain, conv = _pair(name, conv_branch=dict(blocks=[1], hidden_ratio=2), window_attention=None)
    with torch.no_grad():
        torch.nn.init.normal_(conv.variants.conv['1'].layers[-1].weight, std=0.1)
    conv.set_window_attention(4, [1])
    plain.set_window_attention(4, [1])
    x = torch.randn(2, 3, 72, 56)
    a, b = _outputs(plain, x)[2], _outputs(conv, x)[2]
    assert torch.equal(a[0], b[0])  # block 0 has no branch
    assert not torch.allclose(a[1], b[1], atol=1e-4)


def test_conv_branch_keeps_cls_and_handles_odd_grids():
    torch.manual_seed(0)
    branch = ConvBranch(width=8)
    torch.nn.init.normal_(branch.layers[-1].weight)
    y = branch(torch.randn(2, 1 + 5 * 3, 8), (5, 3))
    assert y.shape == (2, 16, 8) and torch.equal(y[:, 0], torch.zeros(2, 8)) and y[:, 1:].abs().sum() > 0
    with pytest.raises(ValueError, match='5x4 grid'):
        branch(torch.randn(2, 16, 8), (5, 4))


def test_conv_branch_bad_values():
    with pytest.raises(ValueError, match=r'blocks \[3\] do not exist: the tower has 3 blocks'):
        build_clip('ViT-Tiny-8', conv_branch=dict(blocks=[0, 3]))
    with pytest.raises(ValueError, match='non-empty list'):
        build_clip('ViT-Tiny-8', conv_branch=dict(blocks=[]))
    with pytest.raises(ValueError, match='needs blocks'):
        build_clip('ViT-Tiny-8', conv_branch=dict(hidden_ratio=2))
    with pytest.raises(ValueError, match='hidden_ratio'):
        build_clip('ViT-Tiny-8', conv_branch=dict(blocks=[0], hidden_ratio=0))


# -- weights: save, load, refuse ------------------------------------------------------------------------------
def test_option_weights_save_and_load_with_the_clip(tmp_path):
    opts = dict(residual_attention=dict(alpha=0.6), conv_branch=dict(blocks=[0, -1]))
    torch.manual_seed(0)
    model = build_clip('EVA02-Tiny-8', **opts)
    with torch.no_grad():
        torch.nn.init.normal_(model.variants.conv['2'].layers[-1].weight)
        model.variants.residual.alpha.fill_(0.4)
    path = save_safetensors(model.clip, str(tmp_path / 'v.safetensors'), model_name='EVA02-Tiny-8')
    again = build_clip('EVA02-Tiny-8', path, **opts)
    x = torch.randn(1, 3, 64, 64)
    assert _equal(_outputs(model, x), _outputs(again, x))
    with pytest.raises(CheckpointError, match='tower options'):
        build_clip('EVA02-Tiny-8', path)  # would silently drop the trained options
    plain = save_safetensors(build_clip('EVA02-Tiny-8').clip, str(tmp_path / 'p.safetensors'),
                             model_name='EVA02-Tiny-8')
    fresh = build_clip('EVA02-Tiny-8', plain, **opts)  # a plain CLIP file: the options start at their init
    assert fresh.variants.residual.alpha.item() == pytest.approx(0.6)
    assert fresh.variants.conv['2'].layers[-1].weight.abs().sum() == 0


@pytest.mark.parametrize('name', TOWERS)
def test_grad_checkpointing_gives_the_same_values_and_gradients(name):
    torch.manual_seed(0)
    model = build_clip(name, residual_attention=dict(alpha=0.7), conv_branch=dict(blocks=[1]),
                       window_attention=dict(window_size=4, blocks=[0, 1]))
    with torch.no_grad():
        torch.nn.init.normal_(model.variants.conv['1'].layers[-1].weight, std=0.1)
    model.train()
    x = torch.randn(2, 3, 64, 48)
    grads = []
    for ckpt in (False, True):
        model.zero_grad()
        model.set_grad_checkpointing(ckpt)
        y = model.encode_dense(x)
        y.pow(2).sum().backward()
        grads.append((y.detach(), [p.grad.clone() for p in model.variant_parameters() if p.grad is not None]))
    torch.testing.assert_close(grads[0][0], grads[1][0])
    assert len(grads[0][1]) == len(grads[1][1]) > 0
    for a, b in zip(grads[0][1], grads[1][1]):
        torch.testing.assert_close(a, b)
