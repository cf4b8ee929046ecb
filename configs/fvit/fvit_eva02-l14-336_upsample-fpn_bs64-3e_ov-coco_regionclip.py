# F-ViT on EVA02-CLIP L/14-336 refined by the RegionCLIP-style baseline: OV-COCO novel AP50 38.7 in the paper's README.
# Loads the export of configs/clipself/regionclip_eva02-l14-336_coco-pseudo_6e.py; the reference's released weights
# (checkpoints/eva_vitl14_coco_regionclip.pt) load too: --cfg-options model.backbone.pretrained=...
_base_ = 'fvit_eva02-l14-336_upsample-fpn_bs64-3e_ov-coco_original.py'
model = dict(
    backbone=dict(pretrained='work_dirs/regionclip_eva02-l14-336_coco-pseudo_6e/exported/epoch_6.safetensors'))
