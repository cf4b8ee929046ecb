# Training-free open-vocabulary segmentation, EVA02-CLIP L/14-336, PASCAL VOC 2012 val, 20 classes, background ignored (1449 images).
#   python tools/test.py configs/seg/zeroshot_eva02-l14-336_voc20.py checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt   # original
#   python tools/test.py configs/seg/zeroshot_eva02-l14-336_voc20.py checkpoints/eva_vitl14_coco_clipself_patches.pt   # CLIPSelf
_base_ = ['_base_/models/zeroshot_eva02-l14-336.py', '_base_/datasets/voc20.py', '_base_/default_runtime.py']
model = dict(classes='voc20')
