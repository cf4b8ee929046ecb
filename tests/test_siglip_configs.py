"""Every SigLIP config (configs/siglip/) loads, names the files where users put them, and runs one step of its stage
with the tiny SigLIP-style tower swapped in: a CLIPSelf loss + backward, a region-classification batch through the
metric, an F-ViT loss and predict, a segmentation predict."""
import glob
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(ROOT, 'configs', 'siglip')
CONFIGS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(CONFIG_DIR, '*.py')))
VARIANTS = {'siglip2-b16': ('ViT-B-16-SigLIP2', 224), 'siglip2-b16-384': ('ViT-B-16-SigLIP2-384', 384),
            'siglip2-b16-512': ('ViT-B-16-SigLIP2-512', 512)}
DATASETS = ('voc21', 'pc60', 'coco-object', 'voc20', 'pc59', 'coco-stuff164k', 'cityscapes', 'ade20k')
TINY = 'SigLIP-Tiny-8'


def _load(name):
    return Config.fromfile(os.path.join(CONFIG_DIR, name))


def _variant(name):
    return name.split('_')[1]


def test_every_stage_has_configs_for_the_three_resolutions():
    want = {'clipself_siglip-tiny_synthetic.py'}
    for key in VARIANTS:
        want |= {f'clipself_{key}_coco-patches_6e.py', f'region-cls_{key}_coco-panoptic.py',
                 *(f'fvit_{key}_upsample-fpn_bs64-3e_ov-coco_{v}.py' for v in ('original', 'clipself-patches')),
                 *(f'zeroshot_{key}_{d}.py' for d in DATASETS)}
    assert set(CONFIGS) == want


@pytest.mark.parametrize('name', [n for n in CONFIGS if 'tiny' not in n])
def test_config_names_the_model_its_files_and_sizes(name):
    cfg = _load(name)
    model_name, px = VARIANTS[_variant(name)]
    folder = f'checkpoints/{model_name}'
    clip = cfg.model.backbone if name.startswith('fvit') else cfg.model.clip
    assert clip.model_name == model_name
    if 'clipself-patches' in name:
        assert clip.pretrained == f'work_dirs/clipself_{_variant(name)}_coco-patches_6e/exported/epoch_6.safetensors'
    else:
        assert clip.pretrained == f'{folder}/open_clip_model.safetensors'
    if name.startswith('fvit'):
        assert cfg.model.data_preprocessor.mean == [127.5] * 3 and cfg.model.data_preprocessor.std == [127.5] * 3
        assert cfg.model.roi_head.bbox_head.fc_out_channels == 768 and cfg.model.neck[0].in_channels == 768
        assert cfg.model.backbone.out_indices == [3, 5, 7, 11]
        return
    assert clip.tokenizer == folder
    if name.startswith('zeroshot'):
        assert cfg.model.data_preprocessor.mean == [127.5] * 3 and cfg.model.data_preprocessor.bgr_to_rgb
        assert cfg.model.test_cfg == dict(mode='slide', crop_size=(224, 224), stride=(112, 112))
        return
    assert cfg.test_dataloader.dataset.crop_size == px and cfg.test_dataloader.dataset.dense_size == 1024
    if name.startswith('clipself'):
        ds = cfg.train_dataloader.dataset
        assert (ds.student_size, ds.crop_size, ds.sampler) == (1024, px, 'grid') and cfg.model.alpha == 0.7
        assert cfg.optim_wrapper.optimizer.lr == 1e-5 and cfg.train_cfg.max_epochs == 6


@pytest.mark.parametrize('name', [n for n in CONFIGS if n.startswith('clipself')])
def test_clipself_configs_train_a_step(name):
    import clipself.engine  # noqa: F401
    from clipself.registry import MODELS
    cfg = _load(name)
    cfg.model.clip = dict(model_name=TINY, pretrained=None)
    with DefaultScope.overwrite_default_scope('clipself'):
        model = MODELS.build(cfg.model)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (2, 3, 40, 48), dtype=torch.uint8, generator=g)
    boxes = [torch.tensor([[0., 0., 24., 16.], [8., 8., 40., 40.]]), torch.tensor([[16., 0., 48., 24.]])]
    crops = torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8, generator=g)
    model.train()
    losses = model.loss(images, boxes, crops)
    assert 'loss_cosine' in losses and torch.isfinite(losses['loss_cosine'])
    losses['loss_cosine'].backward()
    grads = [p.grad for p in model.student.tower.blocks[-1].parameters()]
    assert all(g is not None for g in grads) and any(float(g.abs().sum()) > 0 for g in grads)
    # the attention-pooling head (the dense path's and the teacher's) stays frozen, like the final norm/projection
    assert not any(p.requires_grad for p in model.student.tower.trunk.attn_pool.parameters())


@pytest.fixture(scope='module')
def regions(tmp_path_factory):
    """Two generated panoptic scenes, read by the region-classification dataset."""
    import clipself.engine  # noqa: F401  (registers the datasets)
    from clipself.registry import DATASETS
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'clipself', 'region-cls_tiny_synthetic.py'))
    ds = cfg.test_dataloader.dataset
    ds.update(data_root=str(tmp_path_factory.mktemp('regions')) + '/', dense_size=64, crop_size=64)
    ds.generate.update(num_images=2, size=(64, 80))
    with DefaultScope.overwrite_default_scope('clipself'):
        return DATASETS.build(ds)


@pytest.mark.parametrize('name', [n for n in CONFIGS if n.startswith('region-cls')])
def test_region_classification_configs_evaluate_a_batch(name, regions, tmp_path):
    import clipself.engine  # noqa: F401
    from mmengine.dataset import pseudo_collate
    from clipself.registry import METRICS, MODELS
    cfg = _load(name)
    cfg.model.clip = dict(model_name=TINY, pretrained=None)
    cfg.model.cache_dir = None
    with DefaultScope.overwrite_default_scope('clipself'):
        model = MODELS.build(cfg.model)
        metric = METRICS.build(dict(cfg.test_evaluator, output_dir=str(tmp_path)))
    metric.dataset_meta = regions.metainfo
    data = pseudo_collate([regions[0], regions[1]])
    records = model.test_step(data)
    metric.process(data, records)
    out = metric.compute_metrics(metric.results)
    assert 0 <= out['rois.thing.macc1'] <= 100 and 0 <= out['maskpool.stuff.macc1'] <= 100
    assert out['num_images'] == 2


@pytest.mark.parametrize('name', [n for n in CONFIGS if n.startswith('fvit')])
def test_fvit_configs_run_loss_and_predict(name, tmp_path):
    from tests.det.tiny import batch, build, loss_of, predict, sample, tiny_model_cfg, total, vocabulary_for, \
        write_embeddings
    cfg = _load(name)
    m = tiny_model_cfg(cfg.model, str(tmp_path))
    m['backbone']['model_name'] = TINY
    clf, head = m['roi_head']['bbox_head']['classifier'], m['roi_head']['bbox_head']
    write_embeddings(clf['embeddings'], vocabulary_for(cfg.model.roi_head.bbox_head.classifier.embeddings,
                                                       head['num_classes']), TINY)
    model = build(m)
    assert model.backbone.clip.model_name == TINY
    base = [i for i in range(head['num_classes']) if not model.roi_head.bbox_head.novel[i]]
    losses = loss_of(model, batch([sample(61, 47, [[3, 4, 30, 40]], base[:1], seed=1), sample(37, 70, seed=2)]))
    assert torch.isfinite(total(losses))
    total(losses).backward()
    out = predict(model, batch([sample(40, 56, seed=4)]))
    p = out[0].pred_instances
    assert len(p) > 0 and 0 <= int(p.labels.min()) and int(p.labels.max()) < head['num_classes']


@pytest.mark.parametrize('key', list(VARIANTS))
def test_segmentation_configs_predict(key, tmp_path):
    """One dataset per resolution predicts end to end (the datasets' own configs are the seg tests' concern)."""
    from mmcv.transforms import Compose
    from tests.seg.helpers import build, random_embeddings, tiny_model_cfg, write_dataset
    from mmseg.registry import DATASETS
    name = f'zeroshot_{key}_voc21.py'
    cfg = _load(name)
    m = tiny_model_cfg(cfg.model, str(tmp_path))
    m['clip']['model_name'] = TINY
    m['embeddings'] = random_embeddings(str(tmp_path / 'voc21.pt'), m['classes'], TINY)
    model = build(m)
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = write_dataset('voc21', str(tmp_path), values=(0, 1, 2, 255))
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(ds_cfg)
        pipe = Compose([dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2048, 40), keep_ratio=True),
                        dict(cfg.test_dataloader.dataset.pipeline[2]), dict(type='PackSegInputs')])
    data = pipe(dataset.get_data_info(0))
    with torch.no_grad():
        out = model.test_step(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]))
    assert out[0].pred_sem_seg.data.shape == (1, 37, 52)
    assert model.clip.image_mean == (0.5, 0.5, 0.5)
