# The demo's F-ViT (configs/fvit/fvit_demo_synthetic.py) with ExMobileViT's early-feature shortcut (arXiv
# 2309.01310): per RoI, the token maps of backbone blocks 1 and 2 (both tapped by the demo's out_indices) are pooled
# (RoIAlign 1x1), projected to 32 channels each, concatenated and projected (zero-initialised) into the 64-d region
# embedding the text classifier scores. tools/variants_table.py --fvit trains it on the baseline student.
#   python tools/train.py configs/variants/fvit_demo_synthetic_early-shortcut.py \
#       --cfg-options model.backbone.pretrained=assets/demo_clip_eva02-small-8.safetensors
_base_ = ['../fvit/fvit_demo_synthetic.py']

model = dict(roi_head=dict(bbox_head=dict(early_shortcut=dict(blocks=[1, 2], in_channels=128, channels=32))))
