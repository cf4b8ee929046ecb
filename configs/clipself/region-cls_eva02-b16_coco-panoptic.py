# Zero-shot region classification (CLIPSelf protocol) of EVA02-CLIP ViT-B/16 on COCO panoptic val2017.
#   python tools/test.py configs/clipself/region-cls_eva02-b16_coco-panoptic.py CHECKPOINT
# CHECKPOINT: the original EVA-CLIP file, an exported CLIPSelf .safetensors, or a CLIPSelf training checkpoint
# (its student is evaluated). Results: logged and written to work_dirs/<config>/region_classification.json.
_base_ = ['_base_/region_cls_runtime.py', '_base_/datasets/coco_panoptic_regions.py']

model = dict(
    type='CLIPRegionClassifier',
    clip=dict(model_name='EVA02-B-16', pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'),
    class_embeddings=None,      # None: text tower + ViLD prompt ensemble, cached in cache_dir; or a gen_text_embeddings file
    templates='vild',
    cache_dir='work_dirs/text_cache',
    prompt_names='reference',   # class names as the reference writes them ('display': 'wall-other-merged' -> 'wall')
    mask_weights='reference',   # masks resized to the grid as the reference ('area': covered fraction per token)
)
