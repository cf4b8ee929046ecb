# Training-free open-vocabulary segmentation, EVA02-CLIP B/16, COCO-Stuff 164k val2017, 171 classes (5000 images).
#   python tools/test.py configs/seg/zeroshot_eva02-b16_coco-stuff164k.py checkpoints/EVA02_CLIP_B_psz16_s8B.pt   # original
#   python tools/test.py configs/seg/zeroshot_eva02-b16_coco-stuff164k.py checkpoints/eva_vitb16_coco_clipself_patches.pt   # CLIPSelf
_base_ = ['_base_/models/zeroshot_eva02-b16.py', '_base_/datasets/coco-stuff164k.py', '_base_/default_runtime.py']
model = dict(classes='coco-stuff')
