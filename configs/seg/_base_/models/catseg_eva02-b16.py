# CAT-Seg on EVA02-CLIP B/16; model.clip.pretrained is the CLIP the training starts from (the training configs choose
# the
# original or the CLIPSelf weights; evaluation loads the trained checkpoint, CLIP included).
_base_ = ['./catseg.py']
model = dict(
    clip=dict(model_name='EVA02-B-16', pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'),
)
