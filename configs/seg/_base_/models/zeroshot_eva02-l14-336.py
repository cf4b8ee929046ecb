# Training-free segmenter on EVA02-CLIP L/14-336. The CLIP file is model.clip.pretrained: tools/test.py CONFIG CKPT puts any
# CLIP file there (original or CLIPSelf).
_base_ = ['./zeroshot.py']
model = dict(clip=dict(model_name='EVA02-L-14-336', pretrained='checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt'))
