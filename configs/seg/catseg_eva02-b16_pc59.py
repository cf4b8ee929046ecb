# CAT-Seg on EVA02-CLIP B/16, evaluated on PASCAL Context val, 59 classes (5105 images); image short side 640, CAT-
# Seg's sliding + global inference.
#   python tools/test.py configs/seg/catseg_eva02-b16_pc59.py work_dirs/catseg_eva02-b16_coco-stuff_80k_clipself/iter_80000.pth
_base_ = ['_base_/models/catseg_eva02-b16.py', '_base_/datasets/catseg_pc59.py', '_base_/default_runtime.py']
model = dict(classes='catseg-pc59')
