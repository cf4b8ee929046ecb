# Training-free open-vocabulary segmentation, EVA02-CLIP B/16, PASCAL VOC 2012 val, 20 classes, background ignored (1449 images).
#   python tools/test.py configs/seg/zeroshot_eva02-b16_voc20.py checkpoints/EVA02_CLIP_B_psz16_s8B.pt   # original
#   python tools/test.py configs/seg/zeroshot_eva02-b16_voc20.py checkpoints/eva_vitb16_coco_clipself_patches.pt   # CLIPSelf
_base_ = ['_base_/models/zeroshot_eva02-b16.py', '_base_/datasets/voc20.py', '_base_/default_runtime.py']
model = dict(classes='voc20')
