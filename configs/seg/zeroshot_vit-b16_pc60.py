# Training-free open-vocabulary segmentation, OpenAI CLIP ViT-B/16, PASCAL Context val, 59 classes + background (5105 images).
#   python tools/test.py configs/seg/zeroshot_vit-b16_pc60.py checkpoints/ViT-B-16.pt   # original
#   python tools/test.py configs/seg/zeroshot_vit-b16_pc60.py work_dirs/clipself_vit-b16_coco-patches_6e/exported/epoch_6.safetensors   # CLIPSelf
# Background (class 0): pixels whose top probability is below bg_threshold (SCLIP / NACLIP: 0.1;
# ClearCLIP uses 0.5 VOC21, 0.15 PC60, 0.4 COCO-Object) become background.
_base_ = ['_base_/models/zeroshot_vit-b16.py', '_base_/datasets/pc60.py', '_base_/default_runtime.py']
model = dict(classes='pc60', bg_index=0, bg_threshold=0.1)
