# Zero-shot region classification (CLIPSelf protocol) of OpenAI CLIP ViT-B/16 on COCO panoptic val2017.
#   python tools/test.py configs/clipself/region-cls_vit-b16_coco-panoptic.py checkpoints/ViT-B-16.pt
_base_ = ['_base_/region_cls_runtime.py', '_base_/datasets/coco_panoptic_regions.py']

model = dict(
    type='CLIPRegionClassifier',
    clip=dict(model_name='ViT-B-16', pretrained='checkpoints/ViT-B-16.pt'),   # OpenAI weights: QuickGELU automatically
    class_embeddings=None,
    templates='vild',
    cache_dir='work_dirs/text_cache',
    prompt_names='reference',   # class names as the reference writes them ('display': 'wall-other-merged' -> 'wall')
    mask_weights='reference',   # masks resized to the grid as the reference ('area': covered fraction per token)
)
