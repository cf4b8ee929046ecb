# Training-free open-vocabulary segmentation, OpenAI CLIP ViT-B/16, PASCAL VOC 2012 val, 20 classes, background ignored (1449 images).
#   python tools/test.py configs/seg/zeroshot_vit-b16_voc20.py checkpoints/ViT-B-16.pt   # original
#   python tools/test.py configs/seg/zeroshot_vit-b16_voc20.py work_dirs/clipself_vit-b16_coco-patches_6e/exported/epoch_6.safetensors   # CLIPSelf
_base_ = ['_base_/models/zeroshot_vit-b16.py', '_base_/datasets/voc20.py', '_base_/default_runtime.py']
model = dict(classes='voc20')
