# CAT-Seg on EVA02-CLIP L/14 at 336 px; model.clip.pretrained is the CLIP the training starts from (the training
# configs choose the
# original or the CLIPSelf weights; evaluation loads the trained checkpoint, CLIP included).
_base_ = ['./catseg.py']
model = dict(
    clip=dict(model_name='EVA02-L-14-336', pretrained='checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt'),
    clip_size=336,                                 # a 24x24 grid for L/14 (the 384 px crop is resized)
    guidance_blocks=(7, 15),
)
