# F-ViT on EVA02-CLIP B/16 refined by CLIPSelf on LVIS images (patches): OV-LVIS mask AP_r 25.3 in the paper's README.
_base_ = 'fvit_eva02-b16_upsample-fpn_bs64-48e_ov-lvis_original.py'
model = dict(backbone=dict(pretrained='checkpoints/eva_vitb16_lvis_clipself_patches.pt'))
