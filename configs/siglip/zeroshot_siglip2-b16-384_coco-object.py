# Training-free open-vocabulary segmentation (coco-object) with SigLIP2 ViT-B/16 at 384 px: the literature's protocol of
# configs/seg/zeroshot_vit-b16_coco-object.py (224 px windows, stride 112) with the SigLIP dense path and normalisation.
#   python tools/test.py configs/siglip/zeroshot_siglip2-b16-384_coco-object.py checkpoints/ViT-B-16-SigLIP2-384/open_clip_model.safetensors
_base_ = ['../seg/zeroshot_vit-b16_coco-object.py']
model = dict(
    data_preprocessor=dict(mean=[127.5] * 3, std=[127.5] * 3),  # SigLIP's normalisation, 0-255 scale
    clip=dict(model_name='ViT-B-16-SigLIP2-384', pretrained='checkpoints/ViT-B-16-SigLIP2-384/open_clip_model.safetensors',
              tokenizer='checkpoints/ViT-B-16-SigLIP2-384'),
)
