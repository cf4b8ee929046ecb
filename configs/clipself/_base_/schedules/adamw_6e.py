# CLIPSelf optimisation: AdamW lr 1e-5, wd 0.1 (none on 1-D params / norms / biases), betas (0.9, 0.999),
# 1000 warm-up iterations then cosine, 6 epochs; 2 images per GPU x 8 GPUs.
# AMP: on with CUDA (bf16 where the GPU has it, else fp16 + dynamic loss scale), off on CPU; amp=False: off
amp = 'auto'
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='FrozenAwareOptimWrapperConstructor',  # one log line for the frozen CLIP, not one each
    optimizer=dict(type='AdamW', lr=1e-5, weight_decay=0.1, betas=(0.9, 0.999), eps=1e-8),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0),
)
max_epochs = 6
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=0, end=max_epochs, T_max=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
# lr 1e-5 is for 16 images per step; `--cfg-options auto_scale_lr.enable=True` rescales it to your batch
auto_scale_lr = dict(enable=False, base_batch_size=16)
