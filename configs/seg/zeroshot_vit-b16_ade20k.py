# Training-free open-vocabulary segmentation, OpenAI CLIP ViT-B/16, ADE20K val, 150 classes (2000 images).
#   python tools/test.py configs/seg/zeroshot_vit-b16_ade20k.py checkpoints/ViT-B-16.pt   # original
#   python tools/test.py configs/seg/zeroshot_vit-b16_ade20k.py work_dirs/clipself_vit-b16_coco-patches_6e/exported/epoch_6.safetensors   # CLIPSelf
_base_ = ['_base_/models/zeroshot_vit-b16.py', '_base_/datasets/ade20k.py', '_base_/default_runtime.py']
model = dict(classes='ade20k')
