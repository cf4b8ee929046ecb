# F-ViT on SigLIP2 ViT-B/16 at 224 px (original weights), OV-COCO, 3 epochs, batch 64, 640 px.
# Taps after blocks 3, 5, 7, 11 (every block attends: SigLIP towers have no CLS token); the CLIP map of the
# test-time ensemble is the attention-free pooling head on every token. Width 768, embedding 768; SigLIP's
# normalisation (mean = std = 127.5). Class embeddings: tools/gen_text_embeddings.py with the tokenizer folder.
# The 384 / 512 px and CLIPSelf-export configs inherit this one.
_base_ = ['../fvit/fvit_vit-b16_upsample-fpn_bs64-3e_ov-coco_original.py']
model = dict(
    data_preprocessor=dict(mean=[127.5] * 3, std=[127.5] * 3),
    backbone=dict(model_name='ViT-B-16-SigLIP2', pretrained='checkpoints/ViT-B-16-SigLIP2/open_clip_model.safetensors'),
    roi_head=dict(bbox_head=dict(fc_out_channels=768, classifier=dict(
        embeddings='data/embeddings/ov-coco_siglip2-b16.pt'))),
)
