# Zero-shot region classification (CLIPSelf protocol) of OpenAI CLIP ViT-L/14@336px on COCO panoptic val2017:
# dense input 896 px (64 x 64 tokens), crops 336 px.
#   python tools/test.py configs/clipself/region-cls_vit-l14-336_coco-panoptic.py checkpoints/ViT-L-14-336px.pt
_base_ = ['_base_/region_cls_runtime.py', '_base_/datasets/coco_panoptic_regions.py']

model = dict(
    type='CLIPRegionClassifier',
    clip=dict(model_name='ViT-L-14-336', pretrained='checkpoints/ViT-L-14-336px.pt'),
    class_embeddings=None,
    templates='vild',
    cache_dir='work_dirs/text_cache',
    prompt_names='reference',   # class names as the reference writes them ('display': 'wall-other-merged' -> 'wall')
    mask_weights='reference',   # masks resized to the grid as the reference ('area': covered fraction per token)
)
val_dataloader = dict(dataset=dict(dense_size=896, crop_size=336))
test_dataloader = val_dataloader
