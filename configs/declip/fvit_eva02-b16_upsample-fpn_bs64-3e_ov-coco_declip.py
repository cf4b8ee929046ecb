# F-ViT (OV-COCO, 3 epochs) on the EVA02-CLIP B/16 distilled by declip_eva02-b16_coco-patches_6e_dinov2-b.py: the
# exported file records the decoupled last block ('qq'), so the backbone's last tap and the test-time CLIP ensemble
# run it (build_clip reads the record).
_base_ = ['../fvit/fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_original.py']
model = dict(backbone=dict(
    pretrained='work_dirs/declip_eva02-b16_coco-patches_6e_dinov2-b/exported/epoch_6.safetensors'))
