# CAT-Seg's schedule: 80k iterations, AdamW lr 2e-4, weight decay 1e-4, cosine to 0 without warm-up, the CLIP at
# lr x0.01, gradient norm clipped at 0.01 over the whole model (its detectron2 'full_model' clipping).
# Fused projections (OpenAI in_proj, fused qkv) get no weight decay: their key rows must stay as they are
# (clipself/seg/clip_finetune.py). The runtime (scope, hooks, logging) is the segmentation configs'.
_base_ = ['./default_runtime.py']
max_iters = 80000
clip_lr = dict(lr_mult=0.01)
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='FrozenAwareOptimWrapperConstructor',  # one log line for the frozen CLIP, not one each
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.01, norm_type=2),
    paramwise_cfg=dict(custom_keys={
        'clip.': clip_lr,
        'in_proj_': dict(lr_mult=0.01, decay_mult=0.0),
        'attn.qkv.': dict(lr_mult=0.01, decay_mult=0.0),
    }))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=0.0, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=8000)
val_cfg = dict(type='ValLoop')
default_hooks = dict(
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=8000, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
randomness = dict(seed=0)
