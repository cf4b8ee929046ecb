# F-ViT on EVA02-CLIP L/14-336 refined by CLIPSelf on LVIS images (patches): OV-LVIS mask AP_r 34.9 in the
# paper's README. The CLIP is the export of configs/clipself/clipself_eva02-l14-336_lvis-patches_6e.py; the
# released file loads the same way:
#   --cfg-options model.backbone.pretrained=checkpoints/eva_vitl14_lvis_clipself_patches.pt
_base_ = 'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis_original.py'
model = dict(backbone=dict(
    pretrained='work_dirs/clipself_eva02-l14-336_lvis-patches_6e/exported/epoch_6.safetensors'))
