# F-ViT on EVA02-CLIP L/14-336 refined by CLIPSelf on LVIS images (patches): OV-LVIS mask AP_r 34.9 in the
# paper's README.
_base_ = 'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis_original.py'
model = dict(backbone=dict(pretrained='checkpoints/eva_vitl14_lvis_clipself_patches.pt'))
