# OV-LVIS schedule: AdamW lr 1e-4, wd 0.1, grad clip 1.0, 250 linear warm-up iterations, lr x0.1 at epochs 32
# and 44, 48 epochs, batch 64 (8 GPUs x 8); evaluated every 12 epochs.
max_epochs = 48
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=12)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=250),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[32, 44], gamma=0.1),
]
# AMP: on with CUDA (bf16 where the GPU has it, else fp16 + dynamic loss scale), off on CPU; amp=False: off
amp = 'auto'
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    clip_grad=dict(max_norm=1.0, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=64)
