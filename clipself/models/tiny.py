"""Tiny towers for tests and demos: registered with timm and open_clip on ``import clipself.models``.

- ``ViT-Tiny-8``: OpenAI-style open_clip ViT, 64 px, patch 8, width 64, 3 blocks, 2 heads.
- ``EVA02-Tiny-8``: EVA02-CLIP-style timm Eva (SwiGLU, sub-LN, RoPE with the 16-grid reference),
  64 px, patch 8, width 64, 3 blocks, 2 heads.
Both have a 2-block width-64 text tower and a 64-d embedding: a forward at 64-128 px takes milliseconds.
"""
from pathlib import Path

import open_clip
from timm.models import register_model
from timm.models.eva import Eva

CONFIG_DIR = Path(__file__).parent / 'model_configs'


@register_model
def clipself_eva02_tiny_patch8_clip_64(pretrained: bool = False, **kwargs) -> Eva:
    """EVA02-CLIP B/16's architecture at toy size (no pretrained weights exist)."""
    if pretrained:
        raise ValueError('clipself_eva02_tiny_patch8_clip_64 has no pretrained weights')
    args = dict(img_size=64, patch_size=8, embed_dim=64, depth=3, num_heads=2, qkv_fused=False,
                mlp_ratio=4 * 2 / 3, swiglu_mlp=True, scale_mlp=True, scale_attn_inner=True,
                use_rot_pos_emb=True, ref_feat_shape=(16, 16), global_pool='token')
    for timm_only in ('pretrained_cfg', 'pretrained_cfg_overlay', 'cache_dir'):
        kwargs.pop(timm_only, None)
    args.update(kwargs)
    return Eva(**args)


def register_model_configs() -> None:
    """Make the json configs in ``model_configs/`` known to open_clip (idempotent)."""
    if 'ViT-Tiny-8' not in open_clip.list_models():
        open_clip.add_model_config(CONFIG_DIR)


register_model_configs()
