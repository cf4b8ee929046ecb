# CLIPSelf on SigLIP2 ViT-B/16 at 384 px (ViT-B-16-SigLIP2-384): clipself_siglip2-b16_coco-patches_6e.py with these weights
# and the teacher's crops at 384 px (the pre-training size).
_base_ = ['clipself_siglip2-b16_coco-patches_6e.py']

model = dict(clip=dict(model_name='ViT-B-16-SigLIP2-384', pretrained='checkpoints/ViT-B-16-SigLIP2-384/open_clip_model.safetensors',
                       tokenizer='checkpoints/ViT-B-16-SigLIP2-384'))
val_dataloader = dict(dataset=dict(crop_size=384))
test_dataloader = val_dataloader
train_dataloader = dict(dataset=dict(crop_size=384))
