# CAT-Seg on OpenAI CLIP ViT-B/16; model.clip.pretrained is the CLIP the training starts from (the training configs
# choose the
# original or the CLIPSelf weights; evaluation loads the trained checkpoint, CLIP included).
_base_ = ['./catseg.py']
model = dict(
    clip=dict(model_name='ViT-B-16', pretrained='checkpoints/ViT-B-16.pt'),
)
