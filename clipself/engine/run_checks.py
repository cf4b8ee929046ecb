"""What a distillation run states and checks when it starts: its effective schedule, and whether its images
overlap the evaluation sets the distilled CLIP is meant for. Also registers ``ShardSampler``."""
import math
import os
from typing import Dict, List, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from ..data.image_lists import image_keys, overlapping_images, read_image_list
from ..data.shard_sampler import ShardSampler
from ..registry import DATA_SAMPLERS, HOOKS

DATA_SAMPLERS.register_module(module=ShardSampler)


def schedule_summary(*, num_images: int, batch_size: int, world_size: int, iters_per_epoch: int, max_epochs: int,
                     accumulative_counts: int = 1) -> Dict[str, int]:
    """The numbers that make two distillation schedules comparable.

    Args:
        num_images: images in the training set.
        batch_size: images per process per iteration.
        world_size: processes whose gradients are averaged (DDP).
        iters_per_epoch: iterations of one process per epoch (``len(dataloader)``).
        max_epochs: epochs.
        accumulative_counts: iterations per optimizer step (gradient accumulation).
    Returns:
        ``effective_batch`` (images per optimizer step), ``optimizer_steps`` (in the whole run, as mmengine's
        ``OptimWrapper`` steps: every ``accumulative_counts`` iterations and at the last one),
        ``images_per_epoch`` (seen per epoch, all processes), ``num_images``.
    """
    if min(batch_size, world_size, accumulative_counts) < 1 or iters_per_epoch < 0 or max_epochs < 0:
        raise ValueError('batch_size, world_size and accumulative_counts must be positive, '
                         f'got {batch_size}, {world_size}, {accumulative_counts}')
    return dict(num_images=int(num_images), effective_batch=batch_size * world_size * accumulative_counts,
                optimizer_steps=math.ceil(iters_per_epoch * max_epochs / accumulative_counts),
                images_per_epoch=iters_per_epoch * batch_size * world_size)


@HOOKS.register_module()
class ScheduleSummaryHook(Hook):
    """Logs, when training starts, the effective batch (images per optimizer step, all processes) and the
    number of optimizer steps: the figures to compare with the reference's (each of its 8 processes trained
    its own copy at batch 2 on 1/8 of the images per epoch, see ``docs/reference_fidelity.md``)."""

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        wrapper = runner.optim_wrapper
        counts = getattr(wrapper, '_accumulative_counts', 1)
        if not isinstance(counts, int):  # an OptimWrapperDict: its wrappers step together
            counts = 1
        s = schedule_summary(num_images=len(loader.dataset), batch_size=loader.batch_size,
                             world_size=runner.world_size, iters_per_epoch=len(loader),
                             max_epochs=runner.max_epochs, accumulative_counts=counts)
        sampler = getattr(loader, 'sampler', None)
        if isinstance(sampler, ShardSampler) and runner.world_size > 1:
            raise ValueError(f'ShardSampler stands for one process of {sampler.num_shards} in a ONE-process run; '
                             f'with {runner.world_size} processes each would read the same shard (use '
                             'DefaultSampler for data parallelism)')
        shard = (f'; a shard of 1/{sampler.num_shards} of the images per epoch ({len(sampler)} images)'
                 if isinstance(sampler, ShardSampler) else '')
        runner.logger.info(
            f'distillation schedule: {s["num_images"]} images, batch {loader.batch_size} per process x '
            f'{runner.world_size} process(es) x {counts} accumulation = effective batch {s["effective_batch"]}; '
            f'{len(loader)} iterations per epoch x {runner.max_epochs} epochs = {s["optimizer_steps"]} optimizer '
            f'steps; {s["images_per_epoch"]} images seen per epoch{shard}')


def evaluation_ann_files(cfg) -> List[str]:
    """The annotation files a distillation config evaluates on: its val / test loaders' (``data_root`` +
    ``ann_file``) and the ``eval_ann_files`` it lists (the downstream sets its CLIP is meant for)."""
    files = []
    for key in ('val_dataloader', 'test_dataloader'):
        ds = (cfg.get(key) or {}).get('dataset') or {}
        if ds.get('ann_file'):
            files.append(os.path.join(ds.get('data_root', ''), ds['ann_file']))
    files += list(cfg.get('eval_ann_files') or [])
    return list(dict.fromkeys(files))


def count_overlaps(train_images: Sequence[Dict], train_root: str, ann_files: Sequence[str],
                   image_roots: Optional[Dict[str, str]] = None) -> Dict[str, Optional[int]]:
    """``{ann_file: number of training images it also holds}`` (None where the file is absent).

    Args:
        train_images: ``[{file_name}]`` of the distillation set; ``train_root`` the folder they are in.
        ann_files: COCO / COCO panoptic / LVIS jsons.
        image_roots: the image folder of each json (only used for images that are not COCO's).
    """
    train = set(image_keys((im['file_name'] for im in train_images), train_root))
    out: Dict[str, Optional[int]] = {}
    for path in ann_files:
        if not os.path.isfile(path):
            out[path] = None
            continue
        names = (im['file_name'] for im in read_image_list(path))
        out[path] = len(overlapping_images(train, image_keys(names, (image_roots or {}).get(path, ''))))
    return out


@HOOKS.register_module()
class EvalOverlapHook(Hook):
    """Warns, when training starts, naming the count, if distillation images are also images of an evaluation
    annotation file of the config (:func:`evaluation_ann_files`): e.g. LVIS v1 val holds COCO train2017
    images, so a CLIP distilled on COCO train2017 must not be evaluated on LVIS val. Main process only;
    absent files are skipped (info)."""

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        if not is_main_process():
            return
        dataset = runner.train_dataloader.dataset
        images = getattr(dataset, 'images', None)
        if images is None:
            return
        roots = {}
        for key in ('val_dataloader', 'test_dataloader'):
            ds = (runner.cfg.get(key) or {}).get('dataset') or {}
            if ds.get('ann_file'):
                roots[os.path.join(ds.get('data_root', ''), ds['ann_file'])] = os.path.join(
                    ds.get('data_root', ''), ds.get('img_dir', ''))
        counts = count_overlaps(images, getattr(dataset, 'img_dir', ''), evaluation_ann_files(runner.cfg), roots)
        for path, n in counts.items():
            if n is None:
                runner.logger.info(f'evaluation file {path} not found: its overlap with the training images '
                                   'was not checked')
            elif n:
                runner.logger.warning(
                    f'{n} of the {len(images)} distillation images are also images of {path}: results of this '
                    f'CLIP on that evaluation set are not held-out (use a distillation set without them, e.g. '
                    f'the LVIS-image configs for OV-LVIS)')
