# CLIPSelf on SigLIP2 ViT-B/16 at 224 px (ViT-B-16-SigLIP2), image patches, COCO train2017, 6 epochs, 8 GPUs x 2 images.
# The dense path runs every block and the attention-pooling head without attention (docs/siglip.md); the teacher's
# crops are 224 px (the pre-training size); weights and tokenizer: the files of the Hugging Face repository
# timm/ViT-B-16-SigLIP2 in checkpoints/ViT-B-16-SigLIP2/ (checkpoints/README.md).
_base_ = ['../clipself/clipself_vit-b16_coco-patches_6e.py']

model = dict(clip=dict(model_name='ViT-B-16-SigLIP2', pretrained='checkpoints/ViT-B-16-SigLIP2/open_clip_model.safetensors',
              tokenizer='checkpoints/ViT-B-16-SigLIP2'))
val_dataloader = dict(dataset=dict(dense_size=1024, crop_size=224))
test_dataloader = val_dataloader
train_dataloader = dict(dataset=dict(sampler='grid', student_size=1024, crop_size=224))
