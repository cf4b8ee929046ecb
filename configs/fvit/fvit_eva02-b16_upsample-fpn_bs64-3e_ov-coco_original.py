# F-ViT, EVA02-CLIP B/16 (original weights), OV-COCO, 3 epochs, batch 64, 640 px.
#   tools/dist_train.sh configs/fvit/fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_original.py 8
#   python tools/test.py configs/fvit/fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_original.py CKPT
_base_ = ['_base_/models/fvit_eva02-b16_upsample-fpn.py', '_base_/datasets/ov_coco.py',
          '_base_/schedules/adamw_3e.py', '_base_/default_runtime.py']
model = dict(
    # 640 px crops and 640 px images on a 640 canvas, in training and test (the reference's HEAD; its commits
    # before 75c2ee5 of 2023-10-01 padded training images to 1024)
    data_preprocessor=dict(fixed_size=(640, 640)),
    backbone=dict(model_name='EVA02-B-16', pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'),
)
