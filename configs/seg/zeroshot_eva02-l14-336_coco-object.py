# Training-free open-vocabulary segmentation, EVA02-CLIP L/14-336, COCO val2017, 80 thing classes + background (5000 images).
#   python tools/test.py configs/seg/zeroshot_eva02-l14-336_coco-object.py checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt   # original
#   python tools/test.py configs/seg/zeroshot_eva02-l14-336_coco-object.py checkpoints/eva_vitl14_coco_clipself_patches.pt   # CLIPSelf
# Background (class 0): pixels whose top probability is below bg_threshold (SCLIP / NACLIP: 0.1;
# ClearCLIP uses 0.5 VOC21, 0.15 PC60, 0.4 COCO-Object) become background.
_base_ = ['_base_/models/zeroshot_eva02-l14-336.py', '_base_/datasets/coco-object.py', '_base_/default_runtime.py']
model = dict(classes='coco-object', bg_index=0, bg_threshold=0.1)
