# CAT-Seg on OpenAI CLIP ViT-B/16, evaluated on PASCAL VOC 2012 val, 20 classes + background scored through 39
# background classes (1449 images); image short side 640, CAT-Seg's sliding + global inference.
#   python tools/test.py configs/seg/catseg_vit-b16_voc20b.py work_dirs/catseg_vit-b16_coco-stuff_80k_clipself/iter_80000.pth
_base_ = ['_base_/models/catseg_vit-b16.py', '_base_/datasets/catseg_voc20b.py', '_base_/default_runtime.py']
model = dict(classes='voc20b', class_labels=list(range(1, 21)) + [0] * 39)
