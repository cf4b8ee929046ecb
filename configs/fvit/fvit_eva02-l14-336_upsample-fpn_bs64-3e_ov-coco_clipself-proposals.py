# F-ViT on the CLIPSelf-refined EVA02-CLIP L/14-336 (region proposals): OV-COCO novel AP50 44.3 in the paper's README.
_base_ = 'fvit_eva02-l14-336_upsample-fpn_bs64-3e_ov-coco_original.py'
model = dict(backbone=dict(pretrained='checkpoints/eva_vitl14_coco_clipself_proposals.pt'))
