# F-ViT (OV-COCO, 3 epochs) on the EVA02-CLIP L/14-336 distilled by declip_eva02-l14-336_coco-patches_6e_dinov2-l.py
# (its export records the decoupled last block, which the backbone then runs).
_base_ = ['../fvit/fvit_eva02-l14-336_upsample-fpn_bs64-3e_ov-coco_original.py']
model = dict(backbone=dict(
    pretrained='work_dirs/declip_eva02-l14-336_coco-patches_6e_dinov2-l/exported/epoch_6.safetensors'))
