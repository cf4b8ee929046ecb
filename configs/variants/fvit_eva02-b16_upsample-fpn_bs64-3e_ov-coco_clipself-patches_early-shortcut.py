# F-ViT (OV-COCO, EVA02-B/16 distilled with CLIPSelf image patches) with ExMobileViT's early-feature shortcut
# (arXiv 2309.01310): per RoI the token maps of backbone blocks 3 and 5 (already tapped for the pyramid) are
# pooled (RoIAlign 1x1 at stride 16), each projected to 128 channels, concatenated and projected back into the
# 512-d region embedding before the text classifier. The projection back starts at zero: training starts from
# the plain F-ViT head.
_base_ = ['../fvit/fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_clipself-patches.py']

model = dict(roi_head=dict(bbox_head=dict(early_shortcut=dict(blocks=[3, 5], in_channels=768, channels=128))))
