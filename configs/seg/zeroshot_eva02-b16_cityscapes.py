# Training-free open-vocabulary segmentation, EVA02-CLIP B/16, Cityscapes val, 19 classes (500 images).
#   python tools/test.py configs/seg/zeroshot_eva02-b16_cityscapes.py checkpoints/EVA02_CLIP_B_psz16_s8B.pt   # original
#   python tools/test.py configs/seg/zeroshot_eva02-b16_cityscapes.py checkpoints/eva_vitb16_coco_clipself_patches.pt   # CLIPSelf
_base_ = ['_base_/models/zeroshot_eva02-b16.py', '_base_/datasets/cityscapes.py', '_base_/default_runtime.py']
model = dict(classes='cityscapes')
