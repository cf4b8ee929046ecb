# Runtime shared by the CLIPSelf distillation configs (mmengine).
default_scope = 'clipself'
custom_imports = dict(imports=['clipself.engine'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # checkpoints are written atomically (tmp file + rename): a kill during a save never corrupts them
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, save_last=True,
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
custom_hooks = [
    dict(type='ExportCLIPHook'),        # exported/epoch_N.safetensors = alpha * student + (1 - alpha) * teacher
    dict(type='NonFiniteLossHook'),     # stop with a clear message on a NaN / inf loss
    dict(type='TeacherEvalHook'),
    dict(type='ThroughputHook'),        # logs images_per_s
    dict(type='ScheduleSummaryHook'),   # logs the effective batch and the number of optimizer steps at start
    dict(type='EvalOverlapHook'),       # warns if training images are in an evaluation file (eval_ann_files)
]
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))  # tools/train.py switches to gloo on machines without CUDA
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True,
                     custom_cfg=[dict(data_src='skipped_images', method_name='total', window_size='global',
                                      log_name='skipped_images_total')])
vis_backends = [dict(type='LocalVisBackend')]  # add dict(type='TensorboardVisBackend') for TensorBoard
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
