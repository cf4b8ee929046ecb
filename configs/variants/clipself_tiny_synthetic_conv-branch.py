# The tiny synthetic CLIPSelf run with ViTAEv2 convolution branches beside the attention of blocks 0 and 1.
# python tools/train.py configs/variants/clipself_tiny_synthetic_conv-branch.py
_base_ = ['../clipself/clipself_tiny_synthetic.py']

model = dict(clip=dict(conv_branch=dict(blocks=[0, 1])))
