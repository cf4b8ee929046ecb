"""DenseCLIP behaviour users rely on beyond the numerical reference (see test_dense_reference.py)."""
import pytest
import torch

from clipself.models import build_clip

TINY = ['EVA02-Tiny-8', 'ViT-Tiny-8']


@pytest.mark.parametrize('name', TINY)
def test_forward_features_taps(name):
    model = build_clip(name)
    x = torch.randn(2, 3, 72, 88)
    with torch.no_grad():
        taps = model.forward_features(x, out_indices=[0, 1, -1])
        dense = model.encode_dense(x, normalize=False)
    assert [t.shape for t in taps] == [(2, model.tower.width, 9, 11)] * 3
    # the last tap is the attention-free last block: norm + projection of it is the dense map
    tokens = taps[-1].flatten(2).transpose(1, 2)
    head = model.tower.head(tokens).transpose(1, 2).reshape_as(dense)
    torch.testing.assert_close(head, dense)
    with pytest.raises(ValueError, match='outside the 3 blocks'):
        model.forward_features(x, out_indices=[3])


@pytest.mark.parametrize('name', TINY)
def test_grad_checkpointing_same_values_and_grads(name):
    model = build_clip(name).train()
    x = torch.randn(1, 3, 64, 80)

    def run():
        model.zero_grad()
        out = model.encode_dense(x)
        out.square().sum().backward()
        return out.detach(), [p.grad.clone() for p in model.clip.visual.parameters() if p.grad is not None]

    plain_out, plain_grads = run()
    model.set_grad_checkpointing(True)
    ckpt_out, ckpt_grads = run()
    torch.testing.assert_close(ckpt_out, plain_out)
    assert len(ckpt_grads) == len(plain_grads) > 0
    for a, b in zip(ckpt_grads, plain_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('name', TINY)
def test_cached_position_encodings_follow_weight_updates(name):
    model = build_clip(name)
    x = torch.randn(1, 3, 80, 80)  # a grid other than the pre-training one: resized and cached
    with torch.no_grad():
        before = model.encode_dense(x)
        assert torch.equal(model.encode_dense(x), before)
        pe = model.clip.visual.trunk.pos_embed if name.startswith('EVA') else model.clip.visual.positional_embedding
        pe.add_(torch.randn_like(pe))  # an in-place update (optimiser step, load_state_dict) must invalidate the cache
        after = model.encode_dense(x)
    assert (after - before).abs().max() > 1e-3


def test_pos_embed_gets_gradients_when_trainable():
    model = build_clip('ViT-Tiny-8').train()
    model.encode_dense(torch.randn(1, 3, 80, 80)).sum().backward()
    assert model.clip.visual.positional_embedding.grad is not None


def test_too_small_and_wrong_inputs():
    model = build_clip('ViT-Tiny-8')
    with pytest.raises(ValueError, match=r'\[B, 3, H, W\]'):
        model.encode_dense(torch.randn(3, 64, 64))
    with pytest.raises((ValueError, RuntimeError)):
        model.encode_dense(torch.randn(1, 3, 4, 64))


@pytest.mark.slow
def test_published_architectures_build_and_run():
    """The four towers of the paper, randomly initialised: dims, patch sizes, pre-training sizes, LN eps."""
    expected = {'EVA02-B-16': (512, 16, 224, 1e-6), 'ViT-B-16': (512, 16, 224, 1e-5),
                'EVA02-L-14-336': (768, 14, 336, 1e-6), 'ViT-L-14-336': (768, 14, 336, 1e-5)}
    for name, (dim, patch, size, eps) in expected.items():
        model = build_clip(name)
        assert model.embed_dim == dim and model.patch_size == (patch, patch) and model.image_size == (size, size)
        norm = model.tower.blocks[0].norm1 if name.startswith('EVA') else model.tower.blocks[0].ln_1
        assert norm.eps == eps, name
        with torch.no_grad():
            dense = model.encode_dense(torch.randn(1, 3, 2 * patch + 5, 3 * patch))
        assert dense.shape == (1, dim, 2, 3)
        torch.testing.assert_close(dense.norm(dim=1), torch.ones(1, 2, 3))
        del model


@pytest.mark.parametrize('name', ['EVA02-Tiny-8', 'EVA02-Small-8'])
def test_tiny_eva_projection_is_trainable_from_scratch(name):
    """timm's Eva shrinks its head by head_init_scale=0.001 (a fine-tuning default); as a CLIP projection trained
    from scratch that made the contrastive loss collapse at ln(batch). The tiny towers start at unit scale."""
    torch.manual_seed(0)
    head = build_clip(name).clip.visual.trunk.head
    assert 0.01 < float(head.weight.std()) < 0.05
