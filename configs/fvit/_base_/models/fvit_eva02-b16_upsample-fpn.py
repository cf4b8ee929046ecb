# F-ViT on EVA02-CLIP B/16 (docs/detection.md): frozen CLIP ViT (taps after blocks 3, 5, 7, 11; the last
# block attention-free), simple feature pyramid + FPN (256, 5 levels), class-agnostic RPN, RoIAlign 7x7 box head
# with 4 convs + 2 fcs of the CLIP embedding width, cosine classifier against text embeddings (T_det learnable,
# init 50), test-time geometric ensemble with the CLIP dense map. Datasets/L14 configs override what differs.
clip_width = 768        # the tower width C (pyramid/FPN inputs)
clip_embed_dim = 512    # the CLIP embedding size D (region embedding, text embeddings)
patch = 16
strides = [patch / 4, patch / 2, patch, patch * 2, patch * 4]
norm_cfg = dict(type='SyncBN', requires_grad=True)   # reverted to BN by mmengine when not distributed
# CLIP's own normalisation (the reference F-ViT used ImageNet mean/std; the CLIP was trained with these)
clip_mean = [122.7709383, 116.7460125, 104.09373615]
clip_std = [68.5005327, 66.6321579, 70.32316305]

model = dict(
    type='FViT',
    data_preprocessor=dict(
        type='FViTDataPreprocessor', mean=clip_mean, std=clip_std, bgr_to_rgb=True,
        pad_size_divisor=2 * patch, fixed_size=None),
    backbone=dict(
        type='FrozenCLIPViT', model_name='EVA02-B-16', pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt',
        out_indices=[3, 5, 7, 11]),
    neck=[
        dict(type='SimpleFeaturePyramid', in_channels=clip_width, norm_cfg=norm_cfg),
        dict(type='FPN', in_channels=[clip_width] * 4, out_channels=256, num_outs=5, norm_cfg=norm_cfg),
    ],
    rpn_head=dict(
        type='RPNHead', in_channels=256, feat_channels=256, num_convs=2,
        anchor_generator=dict(type='AnchorGenerator', scales=[8], ratios=[0.5, 1.0, 2.0], strides=strides),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=[1.0] * 4),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='FViTRoIHead',
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor', roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=256, featmap_strides=strides[:4]),
        bbox_head=dict(
            type='FViTBBoxHead', in_channels=256, roi_feat_size=7, conv_out_channels=256,
            num_shared_convs=4, num_shared_fcs=2, num_cls_fcs=1, num_reg_fcs=1, fc_out_channels=clip_embed_dim,
            norm_cfg=norm_cfg, num_classes=65, reg_class_agnostic=True,
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=[0.1, 0.1, 0.2, 0.2]),
            classifier=dict(type='TextEmbeddingClassifier', embeddings='data/embeddings/ov-coco_eva02-b16.pt',
                            background='text', temperature=50.0, learn_temperature=True),
            novel_classes=dict(vocabulary='ov-coco', split='novel'),
            ensemble=True, vlm_temperature=75.0, alpha=0.1, beta=0.8,
            loss_cls=dict(type='OVCrossEntropyLoss', bg_weight=0.6, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.7, neg_iou_thr=0.3, min_pos_iou=0.3,
                          match_low_quality=True, ignore_iof_thr=-1),
            sampler=dict(type='RandomSampler', num=256, pos_fraction=0.5, neg_pos_ub=-1, add_gt_as_proposals=False),
            allowed_border=-1, pos_weight=-1, debug=False),
        rpn_proposal=dict(nms_pre=2000, max_per_img=1000, nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
        rcnn=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0.5,
                          match_low_quality=False, ignore_iof_thr=-1),
            sampler=dict(type='RandomSampler', num=512, pos_fraction=0.25, neg_pos_ub=-1, add_gt_as_proposals=True),
            pos_weight=-1, debug=False)),
    test_cfg=dict(
        rpn=dict(nms_pre=2000, max_per_img=1000, nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
        rcnn=dict(score_thr=0.01, nms=dict(type='nms', iou_threshold=0.4), max_per_img=100)))
