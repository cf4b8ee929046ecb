# CLIPSelf on EVA02-CLIP ViT-L/14-336, region proposals, COCO train2017, 6 epochs.
_base_ = ['./clipself_eva02-l14-336_coco-patches_6e.py']

train_dataloader = dict(dataset=dict(sampler='proposals', proposal_file='annotations/coco_proposals.json'))
