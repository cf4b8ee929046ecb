# The RegionCLIP-style baseline of the CLIPSelf paper on EVA02-CLIP ViT-B/16: region features of COCO train2017's
# pseudo-labelled boxes classified against noun embeddings (federated BCE over <= 100 nouns, the CLIP's logit scale
# frozen), 6 epochs, 8 GPUs x 2 images, as the reference's scripts/train_regionclip_coco_eva_vitb16.sh.
# F-ViT on its export: configs/fvit/fvit_eva02-b16_upsample-fpn_bs64-3e_ov-coco_regionclip.py (paper: 34.4 novel AP50).
_base_ = ['_base_/default_runtime.py', '_base_/schedules/adamw_6e.py', '_base_/datasets/coco_region_nouns.py',
          '_base_/datasets/coco_panoptic_regions.py']  # validation: zero-shot region classification

# the nouns of coco_pseudo_4764.json embedded by this CLIP's text tower (docs/regionclip.md says how to make it:
# tools/gen_text_embeddings.py --classes data/coco/coco_pseudo_4764.json); the reference's .npy also loads
noun_file = 'data/embeddings/coco_pseudo_4764_vild_eva02-b16.pt'
model = dict(
    type='RegionCLIP',
    clip=dict(model_name='EVA02-B-16', pretrained='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'),
    noun_embeddings=noun_file,
    max_nouns=100,              # the nouns of the batch's boxes plus random others, 100 in all
    logit_scale=None,           # the CLIP's own (100), frozen
    loss_weight=1.0,
    train_blocks='all',
    eval_cfg=dict(class_embeddings=None, templates='vild', cache_dir='work_dirs/text_cache'),
    alpha=0.7,                  # exported weights: 0.7 * student + 0.3 * the original CLIP
    grad_checkpointing=False,
)
val_dataloader = dict(dataset=dict(dense_size=1024, crop_size=224))
test_dataloader = val_dataloader
train_dataloader = dict(dataset=dict(student_size=1024, nouns=noun_file))
