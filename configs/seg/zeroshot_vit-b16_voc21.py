# Training-free open-vocabulary segmentation, OpenAI CLIP ViT-B/16, PASCAL VOC 2012 val, 20 classes + background (1449 images).
#   python tools/test.py configs/seg/zeroshot_vit-b16_voc21.py checkpoints/ViT-B-16.pt   # original
#   python tools/test.py configs/seg/zeroshot_vit-b16_voc21.py work_dirs/clipself_vit-b16_coco-patches_6e/exported/epoch_6.safetensors   # CLIPSelf
# Background (class 0): pixels whose top probability is below bg_threshold (SCLIP / NACLIP: 0.1;
# ClearCLIP uses 0.5 VOC21, 0.15 PC60, 0.4 COCO-Object) become background.
_base_ = ['_base_/models/zeroshot_vit-b16.py', '_base_/datasets/voc21.py', '_base_/default_runtime.py']
model = dict(classes='voc21', bg_index=0, bg_threshold=0.1)
