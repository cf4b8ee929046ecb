# F-ViT on SigLIP2 ViT-B/16 at 384 px (original weights), OV-COCO, 3 epochs, batch 64, 640 px.
_base_ = ['fvit_siglip2-b16_upsample-fpn_bs64-3e_ov-coco_original.py']
model = dict(
    backbone=dict(model_name='ViT-B-16-SigLIP2-384', pretrained='checkpoints/ViT-B-16-SigLIP2-384/open_clip_model.safetensors'),
    roi_head=dict(bbox_head=dict(classifier=dict(embeddings='data/embeddings/ov-coco_siglip2-b16-384.pt'))),
)
