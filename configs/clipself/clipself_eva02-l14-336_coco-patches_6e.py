# CLIPSelf on EVA02-CLIP ViT-L/14-336, image patches, COCO train2017, 6 epochs, 8 GPUs x 2 images.
# Activation checkpointing keeps the 896-px student within 24-40 GB GPUs.
_base_ = ['_base_/default_runtime.py', '_base_/schedules/adamw_6e.py', '_base_/datasets/coco_distill.py',
            '_base_/datasets/coco_panoptic_regions.py']  # validation: zero-shot region classification

model = dict(
    type='CLIPSelf',
    clip=dict(model_name='EVA02-L-14-336', pretrained='checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt'),
    train_blocks='all',
    loss_image_weight=0.0,
    eval_cfg=dict(class_embeddings=None, templates='vild', cache_dir='work_dirs/text_cache'),
    alpha=0.95,
    grad_checkpointing=True,
)
val_dataloader = dict(dataset=dict(dense_size=896, crop_size=336))
test_dataloader = val_dataloader
train_dataloader = dict(dataset=dict(sampler='grid', student_size=896, crop_size=336))
