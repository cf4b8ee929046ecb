# The tiny synthetic F-ViT on a CLIP distilled with ViTAEv2 convolution branches (configs/variants/
# clipself_tiny_synthetic_conv-branch.py): the frozen backbone is built with the same tower options, so the
# exported CLIP file (which holds the branches' weights) loads into it.
_base_ = ['../fvit/fvit_tiny_synthetic.py']

model = dict(backbone=dict(tower_options=dict(conv_branch=dict(blocks=[0, 1]))))
