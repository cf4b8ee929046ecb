# CAT-Seg on OpenAI CLIP ViT-B/16, starting from the CLIPSelf weights (work_dirs/clipself_vit-b16_coco-
# patches_6e/exported/epoch_6.safetensors):
# COCO-Stuff 164k train, 171 classes, 80k iterations of 4 crops of 384 px (AdamW 2e-4, CLIP x0.01, cosine).
# No ViT-B/16 CLIPSelf file was released: this is the export of configs/clipself/clipself_vit-b16_coco-patches_6e.py.
#   python tools/train.py configs/seg/catseg_vit-b16_coco-stuff_80k_clipself.py                           # 1 GPU, batch 4
#   python tools/test.py configs/seg/catseg_vit-b16_ade847.py work_dirs/catseg_vit-b16_coco-stuff_80k_clipself/iter_80000.pth
_base_ = ['_base_/models/catseg_vit-b16.py', '_base_/datasets/catseg_coco-stuff_train.py',
          '_base_/catseg_schedule_80k.py']
model = dict(clip=dict(pretrained='work_dirs/clipself_vit-b16_coco-patches_6e/exported/epoch_6.safetensors'))
