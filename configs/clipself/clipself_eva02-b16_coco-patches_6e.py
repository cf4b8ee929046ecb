# CLIPSelf on EVA02-CLIP ViT-B/16, image patches (grid cells), COCO train2017, 6 epochs, 8 GPUs x 2 images.
_base_ = ['_base_/default_runtime.py', '_base_/schedules/adamw_6e.py', '_base_/datasets/coco_distill.py',
            '_base_/datasets/coco_panoptic_regions.py']  # validation: zero-shot region classification

model = dict(
    type='CLIPSelf',
    clip=dict(model_name='EVA02-B-16', pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'),
    train_blocks='all',
    loss_image_weight=0.0,      # > 0 adds the image-level preservation term (loss_image)
    eval_cfg=dict(class_embeddings=None, templates='vild', cache_dir='work_dirs/text_cache'),
    alpha=0.7,                  # exported weights: 0.7 * student + 0.3 * teacher
    grad_checkpointing=False,
)
val_dataloader = dict(dataset=dict(dense_size=1024, crop_size=224))
test_dataloader = val_dataloader
train_dataloader = dict(dataset=dict(sampler='grid', student_size=1024, crop_size=224))
