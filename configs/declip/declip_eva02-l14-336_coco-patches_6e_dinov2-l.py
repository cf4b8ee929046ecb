# DeCLIP-style distillation of EVA02-CLIP ViT-L/14 at 336 px (CVPR 2025 recipe): the decoupled last block ('qq') and
# the context loss toward a DINOv2 ViT-L/14 (with registers) affinity, weight 0.1; 560 px student input (40 x 40
# tokens), COCO train2017, 6 epochs, AdamW lr 1e-5, 8 GPUs x 2 images; exported 0.95 * student + 0.05 * teacher.
#   python tools/train.py configs/declip/declip_eva02-l14-336_coco-patches_6e_dinov2-l.py
# DINOv2 weights from a local file: dinov2_vitl14_reg4_pretrain.pth (or timm's model.safetensors of
# vit_large_patch14_reg4_dinov2.lvd142m).
_base_ = ['../clipself/clipself_eva02-l14-336_coco-patches_6e.py']

model = dict(
    clip=dict(dense_mode='qq'),
    context_teacher=dict(type='dinov2', arch='vit_large_patch14_reg4_dinov2',
                         weights='checkpoints/dinov2_vitl14_reg4_pretrain.pth'),
    loss_context_weight=0.1,
    alpha=0.95,
)
val_dataloader = dict(dataset=dict(dense_size=560))
test_dataloader = val_dataloader
train_dataloader = dict(dataset=dict(student_size=560))
