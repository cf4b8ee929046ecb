# Training-free open-vocabulary segmentation, EVA02-CLIP B/16, PASCAL Context val, 59 classes + background (5105 images).
#   python tools/test.py configs/seg/zeroshot_eva02-b16_pc60.py checkpoints/EVA02_CLIP_B_psz16_s8B.pt   # original
#   python tools/test.py configs/seg/zeroshot_eva02-b16_pc60.py checkpoints/eva_vitb16_coco_clipself_patches.pt   # CLIPSelf
# Background (class 0): pixels whose top probability is below bg_threshold (SCLIP / NACLIP: 0.1;
# ClearCLIP uses 0.5 VOC21, 0.15 PC60, 0.4 COCO-Object) become background.
_base_ = ['_base_/models/zeroshot_eva02-b16.py', '_base_/datasets/pc60.py', '_base_/default_runtime.py']
model = dict(classes='pc60', bg_index=0, bg_threshold=0.1)
