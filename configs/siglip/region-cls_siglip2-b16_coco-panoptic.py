# Zero-shot region classification (CLIPSelf protocol) of SigLIP2 ViT-B/16 at 224 px on COCO panoptic val2017.
#   python tools/test.py configs/siglip/region-cls_siglip2-b16_coco-panoptic.py checkpoints/ViT-B-16-SigLIP2/open_clip_model.safetensors
#   python tools/test.py configs/siglip/region-cls_siglip2-b16_coco-panoptic.py work_dirs/clipself_siglip2-b16_coco-patches_6e/exported/epoch_6.safetensors
# The text tower tokenizes with the tokenizer in checkpoints/ViT-B-16-SigLIP2/ (needs `transformers`).
_base_ = ['../clipself/region-cls_vit-b16_coco-panoptic.py']

model = dict(clip=dict(model_name='ViT-B-16-SigLIP2', pretrained='checkpoints/ViT-B-16-SigLIP2/open_clip_model.safetensors',
              tokenizer='checkpoints/ViT-B-16-SigLIP2'))
val_dataloader = dict(dataset=dict(dense_size=1024, crop_size=224))
test_dataloader = val_dataloader
