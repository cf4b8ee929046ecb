# CLIPSelf on SigLIP2 ViT-B/16 at 512 px (ViT-B-16-SigLIP2-512), image patches, COCO train2017, 6 epochs, 8 GPUs x 2 images.
# The dense path runs every block and the attention-pooling head without attention (docs/siglip.md); the teacher's
# crops are 512 px (the pre-training size); weights and tokenizer: the files of the Hugging Face repository
# timm/ViT-B-16-SigLIP2-512 in checkpoints/ViT-B-16-SigLIP2-512/ (checkpoints/README.md).
_base_ = ['../clipself/clipself_vit-b16_coco-patches_6e.py']

model = dict(clip=dict(model_name='ViT-B-16-SigLIP2-512', pretrained='checkpoints/ViT-B-16-SigLIP2-512/open_clip_model.safetensors',
              tokenizer='checkpoints/ViT-B-16-SigLIP2-512'))
val_dataloader = dict(dataset=dict(dense_size=1024, crop_size=512))
test_dataloader = val_dataloader
train_dataloader = dict(dataset=dict(sampler='grid', student_size=1024, crop_size=512))
