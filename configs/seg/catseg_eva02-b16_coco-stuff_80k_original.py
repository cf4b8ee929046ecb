# CAT-Seg on EVA02-CLIP B/16, starting from the original weights (checkpoints/EVA02_CLIP_B_psz16_s8B.pt):
# COCO-Stuff 164k train, 171 classes, 80k iterations of 4 crops of 384 px (AdamW 2e-4, CLIP x0.01, cosine).
#   python tools/train.py configs/seg/catseg_eva02-b16_coco-stuff_80k_original.py                           # 1 GPU, batch 4
#   python tools/test.py configs/seg/catseg_eva02-b16_ade847.py work_dirs/catseg_eva02-b16_coco-stuff_80k_original/iter_80000.pth
_base_ = ['_base_/models/catseg_eva02-b16.py', '_base_/datasets/catseg_coco-stuff_train.py',
          '_base_/catseg_schedule_80k.py']
model = dict(clip=dict(pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'))
