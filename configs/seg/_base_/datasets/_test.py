# What the benchmarks' test splits share: one image per batch, in order, mmseg's IoUMetric. The label map is read at
# the original image size (the metric compares there) and checked for size and values (LoadCheckedAnnotations).
test_dataloader = dict(batch_size=1, num_workers=2, persistent_workers=False,
                       sampler=dict(type='DefaultSampler', shuffle=False))
test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
