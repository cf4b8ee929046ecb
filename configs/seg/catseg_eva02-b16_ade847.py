# CAT-Seg on EVA02-CLIP B/16, evaluated on ADE20K-full val, 847 classes (2000 images); image short side 640, CAT-Seg's
# sliding + global inference.
#   python tools/test.py configs/seg/catseg_eva02-b16_ade847.py work_dirs/catseg_eva02-b16_coco-stuff_80k_clipself/iter_80000.pth
_base_ = ['_base_/models/catseg_eva02-b16.py', '_base_/datasets/catseg_ade847.py', '_base_/default_runtime.py']
model = dict(classes='ade847')
