"""CLIPSelf on LVIS images (file names from coco_url), the warning when distillation images are evaluation
images, the schedule a run states at start, and the one-process schedule of the released checkpoints."""
import json
import logging
import os
import types

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image
from torch.utils.data import DataLoader, DistributedSampler

from clipself.data.distill_dataset import CLIPSelfDataset
from clipself.data.image_lists import image_file_name, image_keys, overlapping_images, read_image_list
from clipself.data.shard_sampler import ShardSampler
from clipself.engine.run_checks import (EvalOverlapHook, ScheduleSummaryHook, count_overlaps, evaluation_ann_files,
                                        schedule_summary)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
URL = 'http://images.cocodataset.org/{}/{:012d}.jpg'


def _coco_json(path, split, ids, lvis=False):
    """A COCO instances json (``file_name``) or an LVIS one (``coco_url`` only) listing ``ids`` of ``split``."""
    images = [dict(id=i, coco_url=URL.format(split, i), height=20, width=30) if lvis else
              dict(id=i, file_name=f'{i:012d}.jpg', coco_url=URL.format(split, i), height=20, width=30)
              for i in ids]
    path.write_text(json.dumps(dict(images=images, annotations=[], categories=[])))
    return str(path)


# -- LVIS json ----------------------------------------------------------------------------------------------------
def test_lvis_images_are_named_by_their_coco_url(tmp_path):
    ann = _coco_json(tmp_path / 'lvis_v1_train.json', 'train2017', [9, 391895], lvis=True)
    for i in (9, 391895):
        os.makedirs(tmp_path / 'train2017', exist_ok=True)
        Image.fromarray(np.full((40, 60, 3), 90, np.uint8)).save(tmp_path / 'train2017' / f'{i:012d}.jpg')
    assert [im['file_name'] for im in read_image_list(ann)] == ['train2017/000000000009.jpg',
                                                                 'train2017/000000391895.jpg']
    ds = CLIPSelfDataset(data_root=str(tmp_path), ann_file='lvis_v1_train.json', img_dir='', student_size=64,
                         crop_size=32)
    item = ds[1]
    assert item['image_id'] == 391895 and item['skipped'] == 0 and item['image'].shape == (3, 64, 64)
    assert image_file_name(dict(id=1, file_name='a/b.jpg', coco_url='x/y/z.jpg')) == 'a/b.jpg'
    with pytest.raises(ValueError, match=r'bad\.json: image 7 has neither "file_name" nor "coco_url"'):
        image_file_name(dict(id=7), 'bad.json')


# -- overlap -------------------------------------------------------------------------------------------------------
def test_overlap_of_coco_train_with_lvis_val(tmp_path):
    """LVIS val lists train2017 and val2017 images: those of train2017 overlap a COCO train2017 distillation set;
    an LVIS train distillation set (disjoint from LVIS val) does not."""
    coco_train = read_image_list(_coco_json(tmp_path / 'instances_train2017.json', 'train2017', range(1, 21)))
    lvis_val = _coco_json(tmp_path / 'lvis_v1_val.json', 'train2017', [3, 5, 8, 13], lvis=True)
    with open(lvis_val) as f:  # plus two val2017 images
        data = json.load(f)
    data['images'] += [dict(id=i, coco_url=URL.format('val2017', i)) for i in (100, 101)]
    with open(lvis_val, 'w') as f:
        json.dump(data, f)
    lvis_train = read_image_list(_coco_json(tmp_path / 'lvis_v1_train.json', 'train2017', range(14, 30), lvis=True))
    missing = str(tmp_path / 'absent.json')
    assert count_overlaps(coco_train, 'data/coco/train2017', [lvis_val, missing]) == {lvis_val: 4, missing: None}
    assert count_overlaps(lvis_train, 'data/lvis_v1', [lvis_val]) == {lvis_val: 0}
    keys = image_keys(['train2017/000000000003.jpg', 'x/000000000003.jpg'])
    assert keys == ['000000000003.jpg'] * 2 and overlapping_images(keys, ['000000000003.jpg']) == keys[:1]
    # other datasets' images are told apart by their path, not their name
    a, b = image_keys(['0.png'], str(tmp_path / 'a')), image_keys(['0.png'], str(tmp_path / 'b'))
    assert overlapping_images(a, b) == []


class _Logger:
    def __init__(self):
        self.records = []

    def info(self, msg):
        self.records.append(('info', msg))

    def warning(self, msg):
        self.records.append(('warning', msg))


def test_the_run_warns_naming_the_count(tmp_path):
    coco = _coco_json(tmp_path / 'instances_train2017.json', 'train2017', range(1, 11))
    lvis_val = _coco_json(tmp_path / 'lvis_v1_val.json', 'train2017', [2, 4, 6], lvis=True)
    panoptic = _coco_json(tmp_path / 'panoptic_val2017.json', 'val2017', [200, 201])
    cfg = Config(dict(eval_ann_files=[lvis_val], val_dataloader=dict(dataset=dict(
        data_root=str(tmp_path), ann_file='panoptic_val2017.json', img_dir='val2017/'))))
    assert evaluation_ann_files(cfg) == [panoptic, lvis_val]
    dataset = types.SimpleNamespace(images=read_image_list(coco), img_dir=str(tmp_path / 'train2017'))
    runner = types.SimpleNamespace(cfg=cfg, logger=_Logger(), train_dataloader=types.SimpleNamespace(dataset=dataset))
    EvalOverlapHook().before_train(runner)
    warnings = [m for level, m in runner.logger.records if level == 'warning']
    assert len(warnings) == 1 and warnings[0].startswith(f'3 of the 10 distillation images are also images of {lvis_val}')
    cfg.eval_ann_files = []
    runner.logger = _Logger()
    EvalOverlapHook().before_train(runner)
    assert runner.logger.records == []


def test_the_distillation_configs_check_lvis_val():
    for name in ('clipself_eva02-b16_coco-patches_6e.py', 'clipself_eva02-b16_lvis-patches_6e.py'):
        cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'clipself', name))
        assert cfg.eval_ann_files == ['data/lvis_v1/annotations/lvis_v1_val.json']
        types_ = [h['type'] for h in cfg.custom_hooks]
        assert 'EvalOverlapHook' in types_ and 'ScheduleSummaryHook' in types_


@pytest.mark.parametrize('size,script', [('b16', 'eva_vitb16'), ('l14-336', 'eva_vitl14')])
def test_lvis_distillation_configs(size, script):
    """As scripts/train_clipself_lvis_image_patches_{script}.sh: LVIS v1 train images (root data/lvis_v1), patches,
    6 epochs, 2 per GPU, lr 1e-5; the OV-LVIS F-ViT configs load their export."""
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'clipself', f'clipself_eva02-{size}_lvis-patches_6e.py'))
    ds = cfg.train_dataloader.dataset
    assert (ds.data_root, ds.ann_file, ds.img_dir, ds.sampler) == ('data/lvis_v1/', 'annotations/lvis_v1_train.json',
                                                                   '', 'grid')
    assert cfg.train_cfg.max_epochs == 6 and cfg.train_dataloader.batch_size == 2
    assert cfg.model.alpha == (0.7 if size == 'b16' else 0.95)
    fvit = Config.fromfile(os.path.join(ROOT, 'configs', 'fvit',
                                        f'fvit_eva02-{size}_upsample-fpn_bs64-48e_ov-lvis_clipself-patches.py'),
                           import_custom_modules=False)
    assert fvit.model.backbone.pretrained == f'work_dirs/clipself_eva02-{size}_lvis-patches_6e/exported/epoch_6.safetensors'


# -- the schedule ---------------------------------------------------------------------------------------------------
def test_shard_sampler_is_one_rank_of_a_distributed_sampler():
    data = list(range(23))
    for epoch in range(3):
        ref = DistributedSampler(data, num_replicas=8, rank=0, shuffle=True, seed=0)
        ref.set_epoch(epoch)
        ours = ShardSampler(data, num_shards=8, shard=0, seed=0)
        ours.set_epoch(epoch)
        assert list(ours) == list(ref) and len(ours) == len(ref) == 3
    fixed = ShardSampler(data, num_shards=8, seed=0, fixed=True)
    first = list(fixed)
    fixed.set_epoch(4)
    assert list(fixed) == first
    moving = ShardSampler(data, num_shards=8, seed=0)
    moving.set_epoch(4)
    assert list(moving) != first
    every = [i for s in range(8) for i in ShardSampler(data, num_shards=8, shard=s)]
    assert len(every) == 24 and set(every) == set(data)  # one index repeated to even out the shards
    with pytest.raises(ValueError, match='shard'):
        ShardSampler(data, num_shards=8, shard=8)


def test_schedule_summary_numbers():
    # the reference's released run, as the one-process config trains it: 118287 images, batch 2, 1/8 per epoch
    s = schedule_summary(num_images=118287, batch_size=2, world_size=1, iters_per_epoch=14786 // 2, max_epochs=6)
    assert s == dict(num_images=118287, effective_batch=2, optimizer_steps=44358, images_per_epoch=14786)
    # ours on 8 GPUs: batch 16, the same number of steps
    s = schedule_summary(num_images=118287, batch_size=2, world_size=8, iters_per_epoch=7393, max_epochs=6)
    assert (s['effective_batch'], s['optimizer_steps']) == (16, 44358)
    assert schedule_summary(num_images=10, batch_size=2, world_size=1, iters_per_epoch=5, max_epochs=1,
                            accumulative_counts=2)['optimizer_steps'] == 3


def _runner(world_size, sampler_fn, n=50, batch=2, epochs=6, counts=1):
    data = list(range(n))
    loader = DataLoader(data, batch_size=batch, sampler=sampler_fn(data), drop_last=True)
    return types.SimpleNamespace(train_dataloader=loader, world_size=world_size, max_epochs=epochs,
                                 optim_wrapper=types.SimpleNamespace(_accumulative_counts=counts), logger=_Logger())


def test_the_run_logs_effective_batch_and_steps_for_two_processes():
    """Rank 0 of 2 (DistributedSampler): 25 images per process, 12 iterations of 2 per epoch; the effective batch
    is 2 x 2 = 4 and 6 epochs make 72 optimizer steps (36 with accumulation 2 and batch 8)."""
    runner = _runner(2, lambda d: DistributedSampler(d, num_replicas=2, rank=0))
    ScheduleSummaryHook().before_train(runner)
    (level, msg), = runner.logger.records
    assert 'effective batch 4;' in msg and '12 iterations per epoch x 6 epochs = 72 optimizer steps' in msg
    assert '50 images' in msg and '48 images seen per epoch' in msg
    runner = _runner(2, lambda d: DistributedSampler(d, num_replicas=2, rank=0), counts=2)
    ScheduleSummaryHook().before_train(runner)
    assert 'effective batch 8;' in runner.logger.records[0][1] and '= 36 optimizer steps' in runner.logger.records[0][1]
    runner = _runner(1, lambda d: ShardSampler(d, num_shards=8))
    ScheduleSummaryHook().before_train(runner)
    assert 'effective batch 2;' in runner.logger.records[0][1] and 'a shard of 1/8 of the images' in \
        runner.logger.records[0][1]
    with pytest.raises(ValueError, match='ONE-process'):
        ScheduleSummaryHook().before_train(_runner(2, lambda d: ShardSampler(d, num_shards=8)))


@pytest.mark.parametrize('size', ['b16', 'l14-336'])
def test_the_one_copy_config(size):
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'clipself', f'clipself_eva02-{size}_coco-patches_6e_one-copy-of-8.py'))
    loader = cfg.train_dataloader
    assert loader.batch_size == 2 and loader.drop_last
    assert loader.sampler == dict(type='ShardSampler', num_shards=8, shard=0, seed=0)
    assert cfg.train_cfg.max_epochs == 6 and cfg.optim_wrapper.optimizer.lr == 1e-5
    assert loader.dataset.ann_file == 'annotations/instances_train2017.json'
