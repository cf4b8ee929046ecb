# F-ViT on SigLIP2 ViT-B/16 at 512 px (the export of clipself_siglip2-b16-512_coco-patches_6e.py), OV-COCO, 3 epochs, batch 64, 640 px.
_base_ = ['fvit_siglip2-b16_upsample-fpn_bs64-3e_ov-coco_original.py']
model = dict(
    backbone=dict(model_name='ViT-B-16-SigLIP2-512', pretrained='work_dirs/clipself_siglip2-b16-512_coco-patches_6e/exported/epoch_6.safetensors'),
    roi_head=dict(bbox_head=dict(classifier=dict(embeddings='data/embeddings/ov-coco_siglip2-b16-512.pt'))),
)
