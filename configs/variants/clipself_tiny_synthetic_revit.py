# The tiny synthetic CLIPSelf run with ReViT residual attention (alpha starts at 0.5, ReViT's initial value).
# python tools/train.py configs/variants/clipself_tiny_synthetic_revit.py
_base_ = ['../clipself/clipself_tiny_synthetic.py']

model = dict(clip=dict(residual_attention=dict(alpha=0.5)))
