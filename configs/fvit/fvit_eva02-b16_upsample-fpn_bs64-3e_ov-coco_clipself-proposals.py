# F-ViT on the CLIPSelf-refined EVA02-CLIP B/16 (region proposals): OV-COCO novel AP50 37.6 in the paper's README.
_base_ = 'fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_original.py'
model = dict(backbone=dict(pretrained='checkpoints/eva_vitb16_coco_clipself_proposals.pt'))
