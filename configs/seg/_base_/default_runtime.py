# Runtime shared by the segmentation configs (mmseg 1.x / mmengine): test only (training-free).
default_scope = 'mmseg'
custom_imports = dict(imports=['clipself.seg'], allow_failed_imports=False)

test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    # tools/visualize_seg.py draws predictions beside image and ground truth; switched off in plain tests
    visualization=dict(type='SegVisualizationHook', draw=False),
)
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))  # tools/test.py switches to gloo on machines without CUDA
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer', alpha=0.6)
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
