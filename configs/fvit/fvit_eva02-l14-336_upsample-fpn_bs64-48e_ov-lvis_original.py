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
# the base's pipelines at this size ('scale' / 'crop_size' of the resize and crop steps)
train_pipeline = [dict(t, **{k: image_size for k in ('scale', 'crop_size') if k in t}) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **{k: image_size for k in ('scale',) if k in t}) for t in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
