# Training-free open-vocabulary segmentation, OpenAI CLIP ViT-B/16, COCO-Stuff 164k val2017, 171 classes (5000 images).
#   python tools/test.py configs/seg/zeroshot_vit-b16_coco-stuff164k.py checkpoints/ViT-B-16.pt   # original
#   python tools/test.py configs/seg/zeroshot_vit-b16_coco-stuff164k.py work_dirs/clipself_vit-b16_coco-patches_6e/exported/epoch_6.safetensors   # CLIPSelf
_base_ = ['_base_/models/zeroshot_vit-b16.py', '_base_/datasets/coco-stuff164k.py', '_base_/default_runtime.py']
model = dict(classes='coco-stuff')
