# CLIPSelf on EVA02-CLIP ViT-B/16 with ReViT residual attention in the student (arXiv 2402.11301): in every
# attending block the pre-softmax scores are mixed with the previous block's, S_l' = alpha S_l + (1 - alpha)
# S_{l-1}', with one learnable alpha shared by all blocks. alpha starts at 1.0, the pretrained CLIP exactly,
# and trains with the blocks. The scores are explicit (no fused attention): at 1024 px with gradients this
# needs several GB per image per block (docs/vit_variants.md), hence gradient checkpointing.
_base_ = ['../clipself/clipself_eva02-b16_coco-patches_6e.py']

model = dict(clip=dict(residual_attention=dict(alpha=1.0)), grad_checkpointing=True)
