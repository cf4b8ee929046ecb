# CAT-Seg on EVA02-CLIP L/14 at 336 px, evaluated on PASCAL Context val, 459 classes (5105 images); image short side
# 640, CAT-Seg's sliding + global inference.
#   python tools/test.py configs/seg/catseg_eva02-l14-336_pc459.py work_dirs/catseg_eva02-l14-336_coco-stuff_80k_clipself/iter_80000.pth
_base_ = ['_base_/models/catseg_eva02-l14-336.py', '_base_/datasets/catseg_pc459.py', '_base_/default_runtime.py']
model = dict(classes='pc459')
