"""The fused EVA02 block (clipself/models/eva_block.py) equals timm's ``EvaBlock.forward``: values and gradients,
interleaved and half RoPE layouts, with an attention mask, fused and separate q/k/v weights."""
import pytest
import torch
from timm.models.eva import Eva

from clipself.models.eva_block import fast_block, rope_tables, supports_fast_block
from clipself.models.pos_embed import eva_rope


def _trunk(**kw):
    torch.manual_seed(0)
    args = dict(img_size=64, patch_size=8, embed_dim=64, depth=1, num_heads=2, qkv_fused=False, mlp_ratio=4 * 2 / 3,
                swiglu_mlp=True, scale_mlp=True, scale_attn_inner=True, use_rot_pos_emb=True, ref_feat_shape=(16, 16),
                global_pool='token')
    args.update(kw)
    trunk = Eva(**args)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # O(1) weights and biases (timm's init leaves attention uniform and biases zero)
        for p in trunk.parameters():
            p.copy_(torch.randn(p.shape, generator=g) / (p[0].numel() ** 0.5 if p.dim() > 1 else 2))
        for m in trunk.modules():
            if hasattr(m, 'k_bias') and m.k_bias is not None:
                m.k_bias.zero_()
    return trunk


@pytest.mark.parametrize('kw', [dict(), dict(qkv_fused=True), dict(rope_rotate_half=True), dict(init_values=0.5),
                                dict(scale_mlp=False, swiglu_mlp=False)])
@pytest.mark.parametrize('grid', [(5, 7), (8, 8)])
def test_fast_block_equals_timm(kw, grid):
    trunk = _trunk(**kw)
    blk = trunk.blocks[0]
    assert supports_fast_block(blk)
    rope = eva_rope(trunk.rope, grid)
    n = 1 + grid[0] * grid[1]
    x = torch.randn(2, n, 64, requires_grad=True)
    mask = torch.rand(n, n) > 0.3
    mask[:, 0] = True
    for m in (None, mask):
        ref = blk(x, rope=rope, attn_mask=m)
        tables = rope_tables(rope, 1, getattr(blk.attn, 'rotate_half', False))
        out = fast_block(blk, x, tables, m)
        torch.testing.assert_close(out, ref, atol=2e-5, rtol=1e-5)
        g_ref = torch.autograd.grad(ref.square().sum(), [x] + list(blk.parameters()), allow_unused=True)
        g_out = torch.autograd.grad(out.square().sum(), [x] + list(blk.parameters()), allow_unused=True)
        for a, b in zip(g_out, g_ref):
            if b is not None:
                torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_wrong_rope_sign_is_caught():
    """Control: RoPE applied with the other layout moves the block output far beyond the tolerance above."""
    trunk = _trunk()
    blk, grid = trunk.blocks[0], (5, 7)
    rope = eva_rope(trunk.rope, grid)
    x = torch.randn(1, 36, 64)
    with torch.no_grad():
        wrong = fast_block(blk, x, rope_tables(rope, 1, half=True), None)
        assert (wrong - blk(x, rope=rope)).abs().max() > 1e-2


def test_unsupported_blocks_keep_timm_forward():
    trunk = _trunk(qk_norm=True)
    assert not supports_fast_block(trunk.blocks[0])


def test_hooked_or_swapped_projections_are_called():
    """The tower's fused path reads projection weights; a forward hook (calibration) or a swapped module
    (quantisation) on a projection must still see every call: the tower falls back to calling the modules."""
    from clipself.models.eva_block import fast_mlp, fusable_attention
    trunk = _trunk()
    blk = trunk.blocks[0]
    assert fusable_attention(blk.attn)
    seen = []
    h = blk.attn.q_proj.register_forward_pre_hook(lambda m, a: seen.append('q'))
    assert not fusable_attention(blk.attn)
    h.remove()

    class Doubled(torch.nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    fc = blk.mlp.fc1_x
    swapped = Doubled(fc.in_features, fc.out_features, bias=fc.bias is not None)
    swapped.load_state_dict(fc.state_dict())
    blk.mlp.fc1_x = swapped
    y = torch.randn(1, 5, 64)
    torch.testing.assert_close(fast_mlp(blk.mlp, y), blk.mlp(y))
