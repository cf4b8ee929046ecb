# Training-free open-vocabulary segmentation, EVA02-CLIP L/14-336, Cityscapes val, 19 classes (500 images).
#   python tools/test.py configs/seg/zeroshot_eva02-l14-336_cityscapes.py checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt   # original
#   python tools/test.py configs/seg/zeroshot_eva02-l14-336_cityscapes.py checkpoints/eva_vitl14_coco_clipself_patches.pt   # CLIPSelf
_base_ = ['_base_/models/zeroshot_eva02-l14-336.py', '_base_/datasets/cityscapes.py', '_base_/default_runtime.py']
model = dict(classes='cityscapes')
