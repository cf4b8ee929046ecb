# CAT-Seg on OpenAI CLIP ViT-B/16, evaluated on PASCAL Context val, 459 classes (5105 images); image short side 640,
# CAT-Seg's sliding + global inference.
#   python tools/test.py configs/seg/catseg_vit-b16_pc459.py work_dirs/catseg_vit-b16_coco-stuff_80k_clipself/iter_80000.pth
_base_ = ['_base_/models/catseg_vit-b16.py', '_base_/datasets/catseg_pc459.py', '_base_/default_runtime.py']
model = dict(classes='pc459')
