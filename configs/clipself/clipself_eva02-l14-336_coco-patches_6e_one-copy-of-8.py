# The effective schedule of the released CLIPSelf checkpoints (EVA02-CLIP L/14-336, COCO image patches): one process
# trains what rank 0 of the reference's 8 trained (its DDP gradients were never averaged): batch 2, rank 0's 1/8
# shard of the images each epoch, 6 epochs. See clipself_eva02-b16_coco-patches_6e_one-copy-of-8.py.
_base_ = ['./clipself_eva02-l14-336_coco-patches_6e.py']

train_dataloader = dict(batch_size=2, drop_last=True,
                        sampler=dict(_delete_=True, type='ShardSampler', num_shards=8, shard=0, seed=0))
