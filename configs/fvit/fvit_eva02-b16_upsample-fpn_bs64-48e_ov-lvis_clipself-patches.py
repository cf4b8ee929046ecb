# F-ViT on EVA02-CLIP B/16 refined by CLIPSelf on LVIS images (patches): OV-LVIS mask AP_r 25.3 in the paper's README.
# The CLIP is the export of configs/clipself/clipself_eva02-b16_lvis-patches_6e.py (distilled on LVIS train images:
# the COCO-image CLIP has seen LVIS val images). The released file loads the same way:
#   --cfg-options model.backbone.pretrained=checkpoints/eva_vitb16_lvis_clipself_patches.pt
_base_ = 'fvit_eva02-b16_upsample-fpn_bs64-48e_ov-lvis_original.py'
model = dict(backbone=dict(
    pretrained='work_dirs/clipself_eva02-b16_lvis-patches_6e/exported/epoch_6.safetensors'))
