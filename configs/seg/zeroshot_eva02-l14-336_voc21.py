# Training-free open-vocabulary segmentation, EVA02-CLIP L/14-336, PASCAL VOC 2012 val, 20 classes + background (1449 images).
#   python tools/test.py configs/seg/zeroshot_eva02-l14-336_voc21.py checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt   # original
#   python tools/test.py configs/seg/zeroshot_eva02-l14-336_voc21.py checkpoints/eva_vitl14_coco_clipself_patches.pt   # CLIPSelf
# Background (class 0): pixels whose top probability is below bg_threshold (SCLIP / NACLIP: 0.1;
# ClearCLIP uses 0.5 VOC21, 0.15 PC60, 0.4 COCO-Object) become background.
_base_ = ['_base_/models/zeroshot_eva02-l14-336.py', '_base_/datasets/voc21.py', '_base_/default_runtime.py']
model = dict(classes='voc21', bg_index=0, bg_threshold=0.1)
