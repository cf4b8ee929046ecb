# The effective schedule of the released CLIPSelf checkpoints (EVA02-CLIP B/16, COCO image patches). The reference's
# training step calls its DDP model's `.module`, so its 8 GPUs never averaged gradients: each trained its own copy at
# batch 2 on its 1/8 shard of the images (a new shard every epoch), and rank 0's copy was saved. This config runs
# that copy in ONE process: batch 2, the shard rank 0 of 8 would read each epoch (same permutation as torch's
# DistributedSampler, seed 0), 6 epochs, 1000 warm-up iterations then cosine: ~7.4k iterations per epoch on
# train2017. The default config trains with true data parallelism instead (8 x 2 = 16 per step, same steps).
#   python tools/train.py configs/clipself/clipself_eva02-b16_coco-patches_6e_one-copy-of-8.py
_base_ = ['./clipself_eva02-b16_coco-patches_6e.py']

train_dataloader = dict(batch_size=2, drop_last=True,  # the reference drops the last incomplete batch
                        sampler=dict(_delete_=True, type='ShardSampler', num_shards=8, shard=0, seed=0))
