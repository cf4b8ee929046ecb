# The RegionCLIP-style baseline on EVA02-CLIP ViT-L/14-336, COCO train2017 pseudo-labelled boxes, 6 epochs, 8 GPUs x
# 2 images, as the reference's scripts/train_regionclip_coco_eva_vitl14.sh (896-px student, alpha 0.95).
# F-ViT on its export: configs/fvit/fvit_eva02-l14-336_upsample-fpn_bs64-3e_ov-coco_regionclip.py (paper: 38.7).
_base_ = ['./regionclip_eva02-b16_coco-pseudo_6e.py']

noun_file = 'data/embeddings/coco_pseudo_4764_vild_eva02-l14-336.pt'
model = dict(
    clip=dict(model_name='EVA02-L-14-336', pretrained='checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt'),
    noun_embeddings=noun_file,
    alpha=0.95,
    grad_checkpointing=True,    # keeps the 896-px student within 24-40 GB GPUs
)
val_dataloader = dict(dataset=dict(dense_size=896, crop_size=336))
test_dataloader = val_dataloader
train_dataloader = dict(dataset=dict(student_size=896, nouns=noun_file))
