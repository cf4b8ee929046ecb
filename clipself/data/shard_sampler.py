"""One shard of a distributed sampler, in a single process: what one rank of the reference's 8 saw.

The reference's training step calls the DDP-wrapped model's ``.module``, so its 8 ranks never averaged
gradients: each trained its own copy on its shard of ``torch.utils.data.DistributedSampler`` (re-shuffled every
epoch with ``set_epoch``), and rank 0's copy was saved. :class:`ShardSampler` draws that rank's indices (the
same permutation: ``randperm(n)`` seeded with ``seed + epoch``, padded to a multiple of ``num_shards``, every
``num_shards``-th from ``shard``) in a one-process run.
"""
import math
from typing import Iterator, Sized

import torch
from torch.utils.data import Sampler


class ShardSampler(Sampler):
    """Indices of shard ``shard`` of ``num_shards``, as ``DistributedSampler(num_replicas=num_shards,
    rank=shard, shuffle=True, seed=seed, drop_last=False)`` gives them.

    Args:
        dataset: anything with a length.
        num_shards / shard: the pretended world size and rank.
        shuffle: a new permutation each epoch (``set_epoch``); False: ``0..n-1`` split in turn.
        seed: base seed of the permutation (``DistributedSampler``'s default is 0).
        fixed: keep the permutation of epoch 0 for every epoch (one fixed subset) instead of re-drawing it.
    """

    def __init__(self, dataset: Sized, *, num_shards: int = 8, shard: int = 0, shuffle: bool = True,
                 seed: int = 0, fixed: bool = False):
        if num_shards < 1 or not 0 <= shard < num_shards:
            raise ValueError(f'need 0 <= shard < num_shards, got shard {shard} of {num_shards}')
        self.n, self.num_shards, self.shard = len(dataset), int(num_shards), int(shard)
        self.shuffle, self.seed, self.fixed = shuffle, int(seed), fixed
        self.epoch = 0
        self.num_samples = math.ceil(self.n / self.num_shards)

    def set_epoch(self, epoch: int) -> None:
        """Called by mmengine's ``DistSamplerSeedHook`` (as ``DistributedSampler.set_epoch``)."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + (0 if self.fixed else self.epoch))
            indices = torch.randperm(self.n, generator=g).tolist()
        else:
            indices = list(range(self.n))
        total = self.num_samples * self.num_shards
        pad = total - len(indices)
        if pad > 0:  # as DistributedSampler: repeat the head so every shard has the same length
            indices += (indices * math.ceil(pad / len(indices)))[:pad]
        return iter(indices[self.shard:total:self.num_shards])

    def __len__(self) -> int:
        return self.num_samples
