"""Tiny towers for tests and demos. Their timm trunks register with timm's model registry on import (timm's
``@register_model``, as any timm plug-in does); their open_clip configs (``model_configs/``) are added to
open_clip's registry by :func:`register_model_configs`, which ``build_clip`` calls (and
``clipself.engine.patches.apply_all``).

- ``ViT-Tiny-8``: OpenAI-style open_clip ViT, 64 px, patch 8, width 64, 3 blocks, 2 heads.
- ``EVA02-Tiny-8``: EVA02-CLIP-style timm Eva (SwiGLU, sub-LN, RoPE with the 16-grid reference),
  64 px, patch 8, width 64, 3 blocks, 2 heads.
Both have a 2-block width-64 text tower and a 64-d embedding: a forward at 64-128 px takes milliseconds.
- ``EVA02-Small-8``: the same EVA02 design with 6 blocks of width 128 (4 heads): the demo's CLIP, small
  enough to pre-train on a CPU and to ship (fp16, < 10 MB with its width-64 text tower).
- ``SigLIP-Tiny-8``: SigLIP-style (timm ViT without CLS token, attention-pooling ``'map'`` head, no projection;
  bidirectional text tower pooled at the last token, logit bias), 64 px, patch 8, width 64, 3 blocks, 2 heads.
- ``SigLIP-Small-8``: the same with 6 blocks of width 128 (4 heads) and a linear projection to 64 (the demo's
  F-ViT and text widths): the SigLIP-style tower of the shapes world (``clipself.demo.pretrain``, sigmoid loss).
The SigLIP-style towers use open_clip's bundled BPE tokenizer (a real SigLIP's comes from a local folder).
"""
from pathlib import Path

import open_clip
from timm.models import register_model
from timm.models.eva import Eva
from timm.models.vision_transformer import VisionTransformer

CONFIG_DIR = Path(__file__).parent / 'model_configs'


def _eva02_clip(name: str, pretrained: bool, kwargs: dict, **arch) -> Eva:
    """An EVA02-CLIP-style timm Eva (SwiGLU with its LN, attention sub-LN, RoPE on the 16-grid reference)."""
    if pretrained:
        raise ValueError(f'{name} has no pretrained weights in timm: pass a checkpoint to build_clip instead')
    # head_init_scale=1: timm's default 0.001 (meant for fine-tuning a classifier) leaves the CLIP projection at
    # std 2e-5, and contrastive training from scratch then collapses (loss stays at ln(batch)).
    args = dict(img_size=64, patch_size=8, qkv_fused=False, mlp_ratio=4 * 2 / 3, swiglu_mlp=True, scale_mlp=True,
                scale_attn_inner=True, use_rot_pos_emb=True, ref_feat_shape=(16, 16), global_pool='token',
                head_init_scale=1.0, **arch)
    for timm_only in ('pretrained_cfg', 'pretrained_cfg_overlay', 'cache_dir'):
        kwargs.pop(timm_only, None)
    args.update(kwargs)
    return Eva(**args)


@register_model
def clipself_eva02_tiny_patch8_clip_64(pretrained: bool = False, **kwargs) -> Eva:
    """EVA02-CLIP B/16's architecture at toy size: 3 blocks of width 64."""
    return _eva02_clip('clipself_eva02_tiny_patch8_clip_64', pretrained, kwargs, embed_dim=64, depth=3, num_heads=2)


@register_model
def clipself_eva02_small_patch8_clip_64(pretrained: bool = False, **kwargs) -> Eva:
    """EVA02-CLIP's architecture, 6 blocks of width 128, patch 8 at 64 px (the demo's CLIP)."""
    return _eva02_clip('clipself_eva02_small_patch8_clip_64', pretrained, kwargs, embed_dim=128, depth=6,
                       num_heads=4)


def _siglip_vit(name: str, pretrained: bool, kwargs: dict, **arch) -> VisionTransformer:
    """A SigLIP-style timm ViT: no CLS token, learned absolute position embedding, attention-pooling head."""
    if pretrained:
        raise ValueError(f'{name} has no pretrained weights in timm: pass a checkpoint to build_clip instead')
    args = dict(img_size=64, patch_size=8, class_token=False, global_pool='map', **arch)
    for timm_only in ('pretrained_cfg', 'pretrained_cfg_overlay', 'cache_dir'):
        kwargs.pop(timm_only, None)
    args.update(kwargs)
    model = VisionTransformer(**args)
    model.pretrained_cfg = model.default_cfg = dict(architecture=name)  # as timm's builder sets (open_clip reads it)
    return model


@register_model
def clipself_siglip_tiny_patch8_64(pretrained: bool = False, **kwargs) -> VisionTransformer:
    """SigLIP B/16's image tower at toy size: 3 blocks of width 64."""
    return _siglip_vit('clipself_siglip_tiny_patch8_64', pretrained, kwargs, embed_dim=64, depth=3, num_heads=2)


@register_model
def clipself_siglip_small_patch8_64(pretrained: bool = False, **kwargs) -> VisionTransformer:
    """SigLIP's image tower, 6 blocks of width 128, patch 8 at 64 px (the shapes world's SigLIP-style tower)."""
    return _siglip_vit('clipself_siglip_small_patch8_64', pretrained, kwargs, embed_dim=128, depth=6, num_heads=4)


def register_model_configs() -> None:
    """Make the json configs in ``model_configs/`` (``ViT-Tiny-8``, ``EVA02-Tiny-8``, ``EVA02-Small-8``,
    ``SigLIP-Tiny-8``, ``SigLIP-Small-8``) known to open_clip (``open_clip.add_model_config``: process-wide;
    idempotent)."""
    if 'SigLIP-Small-8' not in open_clip.list_models():
        open_clip.add_model_config(CONFIG_DIR)
