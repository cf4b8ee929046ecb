# CLIPSelf on EVA02-CLIP ViT-L/14-336 with local window attention in the student: 16x16-token windows (the
# 64x64 grid at 896 px) in every block but 5, 11, 17, 23, which stay global. The teacher keeps global attention.
_base_ = ['./clipself_eva02-l14-336_coco-patches_6e.py']

model = dict(clip=dict(window_attention=dict(
    window_size=16, blocks=[i for i in range(24) if i not in (5, 11, 17, 23)])))
