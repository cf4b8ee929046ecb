# Training-free open-vocabulary segmentation, OpenAI CLIP ViT-B/16, PASCAL Context val, 59 classes, background ignored (5105 images).
#   python tools/test.py configs/seg/zeroshot_vit-b16_pc59.py checkpoints/ViT-B-16.pt   # original
#   python tools/test.py configs/seg/zeroshot_vit-b16_pc59.py work_dirs/clipself_vit-b16_coco-patches_6e/exported/epoch_6.safetensors   # CLIPSelf
_base_ = ['_base_/models/zeroshot_vit-b16.py', '_base_/datasets/pc59.py', '_base_/default_runtime.py']
model = dict(classes='pc59')
