# F-ViT on SigLIP2 ViT-B/16 at 384 px (the export of clipself_siglip2-b16-384_coco-patches_6e.py), OV-COCO, 3 epochs, batch 64, 640 px.
# Taps after blocks 3, 5, 7, 11 (every block attends: SigLIP towers have no CLS token); the CLIP map of the
# test-time ensemble is the attention-free pooling head on every token. Width 768, embedding 768; SigLIP's
# normalisation (mean = std = 127.5). Class embeddings: tools/gen_text_embeddings.py with the tokenizer folder.
_base_ = ['../fvit/fvit_vit-b16_upsample-fpn_bs64-3e_ov-coco_original.py']
clip_embed_dim = 768
siglip_mean, siglip_std = [127.5] * 3, [127.5] * 3
model = dict(
    data_preprocessor=dict(mean=siglip_mean, std=siglip_std),
    backbone=dict(model_name='ViT-B-16-SigLIP2-384', pretrained='work_dirs/clipself_siglip2-b16-384_coco-patches_6e/exported/epoch_6.safetensors'),
    roi_head=dict(bbox_head=dict(fc_out_channels=clip_embed_dim, classifier=dict(
        embeddings='data/embeddings/ov-coco_siglip2-b16-384.pt'))),
)
