# F-ViT on OpenAI CLIP ViT-B/16 (QuickGELU switched on by build_clip for OpenAI files), OV-COCO, 640 px.
# A CLIPSelf-refined OpenAI B/16 (configs/clipself/clipself_vit-b16_coco-patches_6e.py, exported safetensors)
# loads the same way: --cfg-options model.backbone.pretrained=work_dirs/.../exported/epoch_6.safetensors
_base_ = 'fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_original.py'
model = dict(
    backbone=dict(model_name='ViT-B-16', pretrained='checkpoints/ViT-B-16.pt'),
    roi_head=dict(bbox_head=dict(classifier=dict(embeddings='data/embeddings/ov-coco_vit-b16.pt'))),
)
