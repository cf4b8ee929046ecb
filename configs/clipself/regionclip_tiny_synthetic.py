# The RegionCLIP-style baseline end to end on generated scenes with a tiny random EVA02-style CLIP: runs anywhere,
# on CPU, in seconds, with no data and no weights. `python tools/train.py configs/clipself/regionclip_tiny_synthetic.py`
# The generated instances json is the box file: its categories (the eight shapes) are the nouns and its true
# labels stand in for pseudo-labels; the nouns are embedded by the tiny CLIP's own text tower.
_base_ = ['_base_/default_runtime.py', '_base_/schedules/adamw_6e.py',
          '_base_/datasets/synthetic_panoptic_regions.py']  # validation: region classification on generated scenes

data_root = 'data/synthetic_clipself/'   # the scenes of clipself_tiny_synthetic.py (generated on first use)
nouns = ['circle', 'square', 'triangle', 'diamond', 'cross', 'ring', 'bar', 'star']  # its categories, in id order
model = dict(
    type='RegionCLIP',
    clip=dict(model_name='EVA02-Tiny-8', pretrained=None),
    noun_embeddings=nouns,
    noun_templates='single',
    max_nouns=100,
    train_blocks='all',
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
        type='RegionNounDataset',
        generate=dict(num_images=48, seed=0, size=(192, 192)),
        data_root=data_root,
        ann_file='annotations/instances.json',
        img_dir='images/',
        student_size=128,
        max_boxes=20,
        nouns=nouns,
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
