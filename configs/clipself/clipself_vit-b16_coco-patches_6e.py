# CLIPSelf on OpenAI CLIP ViT-B/16 (QuickGELU switched on from the OpenAI file), image patches, 6 epochs.
_base_ = ['_base_/default_runtime.py', '_base_/schedules/adamw_6e.py', '_base_/datasets/coco_distill.py',
            '_base_/datasets/coco_panoptic_regions.py']  # validation: zero-shot region classification

model = dict(
    type='CLIPSelf',
    clip=dict(model_name='ViT-B-16', pretrained='checkpoints/ViT-B-16.pt'),
    train_blocks='all',
    loss_image_weight=0.0,
    eval_cfg=dict(class_embeddings=None, templates='vild', cache_dir='work_dirs/text_cache'),
    alpha=0.7,
)
val_dataloader = dict(dataset=dict(dense_size=1024, crop_size=224))
test_dataloader = val_dataloader
train_dataloader = dict(dataset=dict(sampler='grid', student_size=1024, crop_size=224))
