# Zero-shot region classification end to end on generated panoptic scenes with a tiny EVA02-style CLIP: CPU,
# seconds, no data, no weights.
#   python tools/test.py configs/clipself/region-cls_tiny_synthetic.py random          # random weights
#   python tools/test.py configs/clipself/region-cls_tiny_synthetic.py work_dirs/clipself_tiny_synthetic/exported/epoch_3.safetensors
_base_ = ['_base_/region_cls_runtime.py', '_base_/datasets/synthetic_panoptic_regions.py']

model = dict(
    type='CLIPRegionClassifier',
    clip=dict(model_name='EVA02-Tiny-8', pretrained=None),
    class_embeddings=None,
    templates='vild',
    cache_dir='work_dirs/text_cache',
    prompt_names='display', mask_weights='area',   # clipself's own choices (the reference's: 'reference')
)
default_hooks = dict(logger=dict(interval=2))
