# Zero-shot region classification on COCO panoptic val2017 (133 classes: 80 things + 53 stuff), the CLIPSelf
# analysis protocol: thing boxes (GT), stuff boxes (bbox of the mask), masks; rois / crops / maskpool;
# per-class mean top-1 / top-5 accuracy for things and stuff. Every knob below is the reference evaluation's
# value; the model side (prompt_names, mask_weights) is in the region-cls_* configs; docs/reference_fidelity.md
# lists each knob with what it changes. Used as the validation of the CLIPSelf configs
# and by the region-cls_* evaluation configs. Only loader / evaluator / loop keys here (no `data_root`
# variable: the distillation configs inherit this file beside their own dataset file).
val_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=False,
    pin_memory=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='COCOPanopticRegions',
        data_root='data/coco/',
        ann_file='annotations/panoptic_val2017.json',
        img_dir='val2017/',
        seg_dir='annotations/panoptic_val2017/',
        dense_size=1024,         # dense input (longest side, padded): 1024 (B/16), 896 (L/14-336)
        crop_size=224,           # crop input = the CLIP's pre-training size: 224 (B/16), 336 (L/14-336)
        min_size=8, max_size=1024,   # keep boxes with area in [8^2, 1024^2] original pixels
        crop_scale=1.5,          # thing crops: the box enlarged 1.5x about its centre, clipped to the image
        stuff_crop_scale=1.0,    # stuff crops: the box itself (None: crop_scale, as earlier clipself versions)
        stuff_box_end='last_pixel',  # stuff box x2 = last pixel of the mask ('edge': last + 1)
        max_segments=100,        # the first 100 segments of an image (None: all)
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='RegionClassificationMetric', topk=(1, 5))  # json -> the work dir
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
