# CLIPSelf on EVA02-CLIP ViT-B/16 with ViTAEv2 parallel convolution branches (arXiv 2202.10108) beside the
# attention of every block but the last: depth-wise 3x3 convolutions (BatchNorm + SiLU between them) on the
# 64x64 token grid of the block input, added to the attention branch. The last convolution starts at zero, so
# the student starts as the pretrained CLIP; the branches train with the blocks.
_base_ = ['../clipself/clipself_eva02-b16_coco-patches_6e.py']

model = dict(clip=dict(conv_branch=dict(blocks=list(range(11)), hidden_ratio=1)))
