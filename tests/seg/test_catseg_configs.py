"""Every CAT-Seg config loads, states CAT-Seg's protocol, reads generated data in its dataset's real layout and builds
with a tiny tower swapped in; predict runs end to end (pipeline, sliding + global inference, IoUMetric)."""
import glob
import os

import pytest
from mmengine.registry import DefaultScope

from .helpers import CONFIG_DIR, build, load_config, predict_small, write_dataset

MODELS_ = {'eva02-b16': ('EVA02-B-16', 384, (3, 7)), 'eva02-l14-336': ('EVA02-L-14-336', 336, (7, 15)),
           'vit-b16': ('ViT-B-16', 384, (3, 7))}
BENCHMARKS = {'ade847': (847, 'ade847'), 'pc459': (459, 'pc459'), 'ade150': (150, 'ade20k'), 'pc59': (59, 'pc59'),
              'voc20': (20, 'voc20'), 'voc20b': (21, 'voc21')}
TRAIN = sorted(f'catseg_{m}_coco-stuff_80k_{w}.py' for m in MODELS_ for w in ('original', 'clipself'))
TEST = sorted(f'catseg_{m}_{b}.py' for m in MODELS_ for b in BENCHMARKS)


def test_the_configs_exist():
    found = sorted(os.path.basename(p) for p in glob.glob(os.path.join(CONFIG_DIR, 'catseg_*.py')))
    assert found == sorted(TRAIN + TEST + ['catseg_tiny_synthetic.py'])


def tiny(model_cfg) -> dict:
    """The config's segmentor with the tiny tower of the same family at 64 px and a small head; the rest kept."""
    m = model_cfg.to_dict()
    m['clip'] = dict(model_name='EVA02-Tiny-8' if m['clip']['model_name'].startswith('EVA') else 'ViT-Tiny-8')
    m.update(clip_size=64, guidance_blocks=(0, 1), templates=['a photo of a {}.'],
             test_cfg=dict(m['test_cfg'], canvas=96, crop=64, stride=32))
    m['head'] = dict(m['head'], hidden_dim=16, appearance_dim=8, text_dim=8, num_heads=2, window_size=4,
                     decoder_dims=(16, 8), guidance_dims=(16, 8), guidance_proj_dims=(4, 2), max_classes=32)
    return m


@pytest.mark.parametrize('name', TRAIN)
def test_training_config_protocol_and_build(name):
    cfg = load_config(name)
    key, weights = name.split('_')[1], name[:-3].split('_')[-1]
    model_name, size, blocks = MODELS_[key]
    m = cfg.model
    assert cfg.default_scope == 'mmseg' and m.type == 'CATSegSegmentor'
    assert m.clip.model_name == model_name and m.clip_size == size and tuple(m.guidance_blocks) == blocks
    assert ('clipself' in m.clip.pretrained) == (weights == 'clipself')
    assert m.train_classes == 'catseg-coco-stuff' and m.finetune == 'attention'
    assert m.templates == ['A photo of a {} in the scene']
    assert m.head.window_size == 12 and m.head.num_layers == 2 and m.head.max_classes == 256
    assert m.test_cfg == dict(mode='slide_global', canvas=640, crop=384, stride=256)
    assert cfg.train_dataloader.batch_size == 4 and cfg.train_cfg.max_iters == 80000
    assert cfg.train_dataloader.dataset.type == 'COCOStuffDataset'
    assert dict(type='RandomCrop', crop_size=(384, 384), cat_max_ratio=1.0) in cfg.train_dataloader.dataset.pipeline
    opt = cfg.optim_wrapper
    assert opt.optimizer.type == 'AdamW' and opt.optimizer.lr == 2e-4
    assert opt.paramwise_cfg.custom_keys['clip.'].lr_mult == 0.01
    assert cfg.param_scheduler[0].type == 'CosineAnnealingLR' and cfg.param_scheduler[0].T_max == 80000
    model = build(tiny(m))
    assert len(model.train_classes) == 171


@pytest.mark.parametrize('name', TEST)
def test_evaluation_config_protocol_and_build(name):
    cfg = load_config(name)
    key, bench = name[:-3].split('_')[1:]
    model_name, size, blocks = MODELS_[key]
    m = cfg.model
    assert m.clip.model_name == model_name and m.clip_size == size and tuple(m.guidance_blocks) == blocks
    assert m.test_cfg == dict(mode='slide_global', canvas=640, crop=384, stride=256) and m.head.test_pooling == (1, 1)
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert pipeline[1].scale == (2560, 640) and pipeline[2].num_classes == BENCHMARKS[bench][0]
    assert build(tiny(m)).num_classes == BENCHMARKS[bench][0]


# the CLIPs only differ in the tower (built above): the data and predict path runs once per benchmark
@pytest.mark.parametrize('bench', list(BENCHMARKS))
def test_evaluation_config_reads_its_dataset_and_predicts(bench, tmp_path):
    cfg = load_config(f'catseg_vit-b16_{bench}.py')
    num_labels, layout = BENCHMARKS[bench]
    m = cfg.model
    pipeline = cfg.test_dataloader.dataset.pipeline
    from mmseg.registry import DATASETS
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = write_dataset(layout, str(tmp_path), values=(0, 1, 2, 255))
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(ds_cfg)
    assert len(dataset) == 1 and len(dataset.metainfo['classes']) == num_labels
    model = build(tiny(m))
    assert model.num_classes == num_labels
    out, miou = predict_small(model, dataset, pipeline[2])
    pred = out[0].pred_sem_seg.data
    assert pred.shape == (1, 37, 52) and 0 <= int(pred.min()) and int(pred.max()) < num_labels
    assert 0.0 <= miou <= 100.0
