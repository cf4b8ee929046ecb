# The tiny synthetic F-ViT with ExMobileViT's early-feature shortcut (arXiv 2309.01310): per RoI, the token maps
# of backbone blocks 0 and 1 are pooled (RoIAlign 1x1), projected to 32 channels each, concatenated and projected
# (zero-initialised) into the 64-d region embedding the text classifier scores.
# python tools/train.py configs/variants/fvit_tiny_synthetic_early-shortcut.py
_base_ = ['../fvit/fvit_tiny_synthetic.py']

model = dict(roi_head=dict(bbox_head=dict(early_shortcut=dict(blocks=[0, 1], in_channels=64, channels=32))))
