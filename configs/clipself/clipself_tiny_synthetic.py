# CLIPSelf end to end on generated scenes with a tiny random EVA02-style CLIP: runs anywhere, on CPU, in
# under a minute, with no data and no weights. `python tools/train.py configs/clipself/clipself_tiny_synthetic.py`
_base_ = ['_base_/default_runtime.py', '_base_/schedules/adamw_6e.py',
          '_base_/datasets/synthetic_panoptic_regions.py']  # validation: region classification on generated scenes

data_root = 'data/synthetic_clipself/'   # generated on first use (images, COCO json, proposals)
model = dict(
    type='CLIPSelf',
    clip=dict(model_name='EVA02-Tiny-8', pretrained=None),
    train_blocks='all',
    loss_image_weight=0.0,
    alpha=0.7,
    eval_cfg=dict(class_embeddings=None, templates='vild', cache_dir='work_dirs/text_cache', prompt_names='display',
                  mask_weights='area'),
)
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='CLIPSelfDataset',
        generate=dict(num_images=48, seed=0, size=(192, 192)),
        data_root=data_root,
        ann_file='annotations/instances.json',
        img_dir='images/',
        sampler='proposals',
        proposal_file='annotations/proposals.json',
        student_size=128,
        crop_size=64,
    ),
)
max_epochs = 3
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=0, end=max_epochs, T_max=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(logger=dict(interval=4, ignore_last=False))
log_processor = dict(window_size=4)
