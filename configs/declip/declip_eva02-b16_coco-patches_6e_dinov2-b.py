# DeCLIP-style distillation of EVA02-CLIP ViT-B/16 (CVPR 2025 recipe): CLIPSelf's content loss on image patches
# with DeCLIP's decoupled last block ('qq': softmax(q q^T) on V, no residual, no MLP) and its context loss toward a
# DINOv2 ViT-B/14 (with registers) affinity, weight 0.1. 560 px student input (35 x 35 tokens), COCO train2017,
# 6 epochs, AdamW lr 1e-5, 8 GPUs x 2 images; exported weights 0.7 * student + 0.3 * teacher (DeCLIP's --alpha).
#   python tools/train.py configs/declip/declip_eva02-b16_coco-patches_6e_dinov2-b.py
# DINOv2 weights are read from a local file (never downloaded): the DINOv2 release's dinov2_vitb14_reg4_pretrain.pth
# or timm's vit_base_patch14_reg4_dinov2.lvd142m model.safetensors (see checkpoints/README.md).
_base_ = ['../clipself/clipself_eva02-b16_coco-patches_6e.py']

model = dict(
    clip=dict(dense_mode='qq'),     # recorded in the exported files: F-ViT / segmentation / evaluation run it
    context_teacher=dict(type='dinov2', arch='vit_base_patch14_reg4_dinov2',
                         weights='checkpoints/dinov2_vitb14_reg4_pretrain.pth'),
    loss_context_weight=0.1,
    alpha=0.7,
)
val_dataloader = dict(dataset=dict(dense_size=560))
test_dataloader = val_dataloader
train_dataloader = dict(dataset=dict(student_size=560))
