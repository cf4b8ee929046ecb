# Training-free open-vocabulary segmentation, EVA02-CLIP L/14-336, PASCAL Context val, 59 classes, background ignored (5105 images).
#   python tools/test.py configs/seg/zeroshot_eva02-l14-336_pc59.py checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt   # original
#   python tools/test.py configs/seg/zeroshot_eva02-l14-336_pc59.py checkpoints/eva_vitl14_coco_clipself_patches.pt   # CLIPSelf
_base_ = ['_base_/models/zeroshot_eva02-l14-336.py', '_base_/datasets/pc59.py', '_base_/default_runtime.py']
model = dict(classes='pc59')
