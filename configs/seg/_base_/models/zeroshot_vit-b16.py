# Training-free segmenter on OpenAI CLIP ViT-B/16. The CLIP file is model.clip.pretrained: tools/test.py CONFIG CKPT puts any
# CLIP file there (original or CLIPSelf).
_base_ = ['./zeroshot.py']
model = dict(clip=dict(model_name='ViT-B-16', pretrained='checkpoints/ViT-B-16.pt'))
