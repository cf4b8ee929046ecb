# CLIPSelf on EVA02-CLIP ViT-B/16 with local window attention in the student: 16x16-token windows (the 64x64
# grid at 1024 px -> 4x4 windows) in blocks 0, 1, 3, 4, 6, 7, 9, 10, global attention in 2, 5, 8, 11; the CLS
# token is replicated into each window and averaged back. The teacher keeps global attention.
_base_ = ['./clipself_eva02-b16_coco-patches_6e.py']

model = dict(clip=dict(window_attention=dict(window_size=16, blocks=[0, 1, 3, 4, 6, 7, 9, 10])))
