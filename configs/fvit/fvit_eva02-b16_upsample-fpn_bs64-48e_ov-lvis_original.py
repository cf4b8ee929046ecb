# F-ViT, EVA02-CLIP B/16 (original weights), OV-LVIS (rare classes novel), 48 epochs, batch 64, 1024 px, with a
# class-agnostic mask head (4 convs, RoIAlign 14).
#   tools/dist_train.sh configs/fvit/fvit_eva02-b16_upsample-fpn_bs64-48e_ov-lvis_original.py 8
_base_ = ['_base_/models/fvit_eva02-b16_upsample-fpn.py', '_base_/datasets/ov_lvis.py',
          '_base_/schedules/adamw_48e.py', '_base_/default_runtime.py']
norm_cfg = {{_base_.norm_cfg}}
find_unused_parameters = True   # DDP: a batch without positives leaves the mask head out of the graph
model = dict(
    data_preprocessor=dict(pad_mask=True, fixed_size=(1024, 1024)),
    backbone=dict(model_name='EVA02-B-16', pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'),
    roi_head=dict(
        bbox_head=dict(
            num_classes=1203,
            classifier=dict(embeddings='data/embeddings/lvis_eva02-b16.pt'),
            novel_classes=dict(_delete_=True, vocabulary='lvis', frequency='r'),
            vlm_temperature=50.0, alpha=0.1, beta=0.6,
            loss_cls=dict(bg_weight=0.9)),
        mask_roi_extractor=dict(
            type='SingleRoIExtractor', roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=256, featmap_strides=[4, 8, 16, 32]),
        mask_head=dict(
            type='FCNMaskHead', num_convs=4, in_channels=256, conv_out_channels=256, num_classes=1203,
            class_agnostic=True, norm_cfg=norm_cfg,
            loss_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0))),
    train_cfg=dict(rcnn=dict(assigner=dict(match_low_quality=True), mask_size=28)),
    test_cfg=dict(rcnn=dict(score_thr=0.0001, nms=dict(type='nms', iou_threshold=0.5), max_per_img=300,
                            mask_thr_binary=0.5)),
)
