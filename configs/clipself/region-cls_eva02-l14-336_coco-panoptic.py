# Zero-shot region classification (CLIPSelf protocol) of EVA02-CLIP ViT-L/14-336 on COCO panoptic val2017:
# dense input 896 px (64 x 64 tokens), crops 336 px.
#   python tools/test.py configs/clipself/region-cls_eva02-l14-336_coco-panoptic.py CHECKPOINT
_base_ = ['_base_/region_cls_runtime.py', '_base_/datasets/coco_panoptic_regions.py']

model = dict(
    type='CLIPRegionClassifier',
    clip=dict(model_name='EVA02-L-14-336', pretrained='checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt'),
    class_embeddings=None,
    templates='vild',
    cache_dir='work_dirs/text_cache',
    prompt_names='reference',   # class names as the reference writes them ('display': 'wall-other-merged' -> 'wall')
    mask_weights='reference',   # masks resized to the grid as the reference ('area': covered fraction per token)
)
val_dataloader = dict(dataset=dict(dense_size=896, crop_size=336))
test_dataloader = val_dataloader
