# Training-free segmenter on EVA02-CLIP B/16. The CLIP file is model.clip.pretrained: tools/test.py CONFIG CKPT puts any
# CLIP file there (original or CLIPSelf).
_base_ = ['./zeroshot.py']
model = dict(clip=dict(model_name='EVA02-B-16', pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'))
