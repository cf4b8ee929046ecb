# Training-free open-vocabulary segmentation, EVA02-CLIP B/16, ADE20K val, 150 classes (2000 images).
#   python tools/test.py configs/seg/zeroshot_eva02-b16_ade20k.py checkpoints/EVA02_CLIP_B_psz16_s8B.pt   # original
#   python tools/test.py configs/seg/zeroshot_eva02-b16_ade20k.py checkpoints/eva_vitb16_coco_clipself_patches.pt   # CLIPSelf
_base_ = ['_base_/models/zeroshot_eva02-b16.py', '_base_/datasets/ade20k.py', '_base_/default_runtime.py']
model = dict(classes='ade20k')
