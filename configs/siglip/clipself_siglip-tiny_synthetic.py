# CLIPSelf end to end on generated scenes with a tiny random SigLIP-style CLIP (no CLS token, attention-pooling
# head): CPU, under a minute, no data, no weights. `python tools/train.py configs/siglip/clipself_siglip-tiny_synthetic.py`
_base_ = ['../clipself/clipself_tiny_synthetic.py']

model = dict(clip=dict(model_name='SigLIP-Tiny-8', pretrained=None))
