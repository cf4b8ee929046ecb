# F-ViT, EVA02-CLIP L/14-336 (original weights), OV-LVIS, 48 epochs, batch 64, 896 px, class-agnostic mask head.
_base_ = 'fvit_eva02-b16_upsample-fpn_bs64-48e_ov-lvis_original.py'
clip_width, clip_embed_dim, patch = 1024, 768, 14
strides = [patch / 4, patch / 2, patch, patch * 2, patch * 4]
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(pad_size_divisor=2 * patch, fixed_size=(896, 896)),
    backbone=dict(model_name='EVA02-L-14-336', pretrained='checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt',
                  out_indices=[6, 10, 14, 23]),
    neck=[
        dict(type='SimpleFeaturePyramid', in_channels=clip_width, norm_cfg=norm_cfg),
        dict(type='FPN', in_channels=[clip_width] * 4, out_channels=256, num_outs=5, norm_cfg=norm_cfg),
    ],
    rpn_head=dict(anchor_generator=dict(strides=strides)),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides=strides[:4]),
        mask_roi_extractor=dict(featmap_strides=strides[:4]),
        bbox_head=dict(fc_out_channels=clip_embed_dim, beta=0.4,
                       classifier=dict(embeddings='data/embeddings/lvis_eva02-l14-336.pt'))),
)
image_size = (896, 896)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size, recompute_bbox=True,
         allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
