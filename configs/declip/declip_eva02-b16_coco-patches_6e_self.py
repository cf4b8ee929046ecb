# DeCLIP-style distillation of EVA02-CLIP ViT-B/16 with the frozen CLIP itself as the context teacher (no other
# model to download): the student's last-block query affinity is pulled toward the frozen CLIP's token affinity
# after block 5 (0-based; DeCLIP observes that CLIP's tokens lose their spatial correlations in the last blocks).
# Otherwise as declip_eva02-b16_coco-patches_6e_dinov2-b.py.
_base_ = ['declip_eva02-b16_coco-patches_6e_dinov2-b.py']

model = dict(context_teacher=dict(_delete_=True, type='self', block=5))
