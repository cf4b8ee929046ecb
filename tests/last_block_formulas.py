"""The last block's parts written out from the weights (explicit projections, RoPE from the EVA-CLIP formula of
clipself.testing.reference): what the last-block tests compare the library's blocks against."""
import torch

from clipself.testing.reference import eva_rope_tables, rotate_pairs


def block_parts(model, x: torch.Tensor, grid, *, rope: bool = True):
    """For tokens ``x [B, N, C]`` entering ``model``'s last block: ``(q, k, v, proj, mlp, merge)``; q, k, v
    ``[B, heads, N, d]`` (EVA02: q and k of the patch tokens rotated by the grid's RoPE when ``rope``), ``proj`` the
    attention's output path (sub-LN, projection), ``mlp`` the MLP with its norm, ``merge`` ``[B, heads, N, d] ->
    [B, N, C]``."""
    blk = model.tower.blocks[-1]
    b, n, c = x.shape
    if model.model_name.startswith('EVA'):
        attn = blk.attn
        heads = attn.num_heads
        y = blk.norm1(x)
        if attn.qkv is not None:
            w = attn.qkv.weight
            bias = torch.cat([attn.q_bias, attn.k_bias, attn.v_bias]) if attn.q_bias is not None else None
        else:
            w = torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight])
            bias = torch.cat([attn.q_proj.bias, torch.zeros_like(attn.q_proj.bias) if attn.k_proj.bias is None
                              else attn.k_proj.bias, attn.v_proj.bias])
        q, k, v = (y @ w.T + (bias if bias is not None else 0)).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, n, heads, c // heads).transpose(1, 2) for t in (q, k, v))
        if rope:
            sin, cos = eva_rope_tables(grid, c // heads)
            rot = lambda t: torch.cat([t[:, :, :1], t[:, :, 1:] * cos + rotate_pairs(t[:, :, 1:]) * sin], dim=2)  # noqa: E731
            q, k = rot(q), rot(k)
        proj = lambda o: attn.proj(attn.norm(o))  # noqa: E731
        mlp = lambda t: blk.mlp(blk.norm2(t))  # noqa: E731
    else:
        mha = blk.attn
        heads = mha.num_heads
        q, k, v = (blk.ln_1(x) @ mha.in_proj_weight.T + mha.in_proj_bias).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, n, heads, c // heads).transpose(1, 2) for t in (q, k, v))
        proj = lambda o: mha.out_proj(o)  # noqa: E731
        mlp = lambda t: blk.mlp(blk.ln_2(t))  # noqa: E731
    merge = lambda o: o.transpose(1, 2).reshape(b, n, c)  # noqa: E731
    return q, k, v, proj, mlp, merge


def write_decoupled_export(path: str, mode: str, model_name: str = 'EVA02-Tiny-8', seed: int = 0):
    """A sensitised tiny CLIP with ``dense_mode=mode``, written as a decoupled distillation exports it (the mode in
    the metadata); returns ``(clip, path)``."""
    from clipself.distill.export import dense_mode_metadata
    from clipself.models import build_clip, save_safetensors
    from tests.models.test_dense_reference import sensitise
    torch.manual_seed(seed)
    clip = sensitise(build_clip(model_name, dense_mode=mode))
    return clip, save_safetensors(clip.clip, path, model_name=model_name, extra=dense_mode_metadata(mode))
