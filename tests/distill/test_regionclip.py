"""The RegionCLIP-style baseline: its loss on a case worked out by hand, the sampled nouns, the box and
noun-embedding files (and their errors), its configs, and a tiny run through tools/train.py."""
import glob
import inspect
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image

import clipself.engine  # noqa: F401  (registers the RegionCLIP model and dataset)
from clipself.data.region_nouns import RegionNounDataset, load_noun_embeddings
from clipself.distill.region_clip import RegionCLIP, federated_bce, sample_nouns
from clipself.models.text import save_text_embeddings
from clipself.models.vocabulary import load_vocabulary
from clipself.registry import MODELS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sorted(glob.glob(os.path.join(ROOT, 'configs', 'clipself', 'regionclip_*.py')))
TINY = dict(model_name='EVA02-Tiny-8', pretrained=None)


def _softplus(x):  # BCE with logits: target 1 -> softplus(-x), target 0 -> softplus(x)
    return math.log1p(math.exp(x))


# -- the loss ---------------------------------------------------------------------------------------------------
def test_federated_bce_on_a_case_worked_out_by_hand():
    """Two regions, three nouns in 2-d, logit scale 2. Logits s * <r, n>: region 0 (label 0) -> 2, 0, 1.2;
    region 1 (label 1) -> 1.2, 1.6, -0.56. Per region the BCE summed over the three nouns, then the mean."""
    regions = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    nouns = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, -0.8]])
    labels = torch.tensor([0, 1])
    region0 = _softplus(-2.0) + _softplus(0.0) + _softplus(1.2)     # 0.126928 + 0.693147 + 1.463282
    region1 = _softplus(1.2) + _softplus(-1.6) + _softplus(-0.56)   # 1.463282 + 0.183901 + 0.451845
    expected = (region0 + region1) / 2
    assert expected == pytest.approx(2.191193, abs=1e-6)
    got = federated_bce(regions, labels, nouns, torch.tensor([0, 1, 2]), 2.0)
    assert float(got) == pytest.approx(expected, abs=1e-6)
    # the order of the sampled nouns does not matter; a noun left out of the sample drops its term
    assert float(federated_bce(regions, labels, nouns, torch.tensor([2, 0, 1]), 2.0)) == pytest.approx(expected)
    only_present = ((_softplus(-2.0) + _softplus(0.0)) + (_softplus(1.2) + _softplus(-1.6))) / 2
    assert float(federated_bce(regions, labels, nouns, torch.tensor([0, 1]), 2.0)) == pytest.approx(only_present)


def test_model_loss_is_the_bce_of_its_region_features_against_its_nouns():
    nouns = torch.nn.functional.normalize(torch.randn(3, 64, generator=torch.Generator().manual_seed(0)), dim=-1)
    model = RegionCLIP(clip=TINY, noun_embeddings=nouns * 3, logit_scale=5.0, loss_weight=0.5)  # normalised inside
    torch.manual_seed(1)
    images = torch.randint(0, 256, (2, 3, 72, 56), dtype=torch.uint8)  # odd sizes
    boxes = [torch.tensor([[0.0, 0.0, 30.0, 41.0], [9.5, 12.0, 55.0, 70.0]]), torch.tensor([[3.0, 5.0, 21.0, 33.0]])]
    labels = [torch.tensor([0, 2]), torch.tensor([2])]
    losses = model.loss(images, boxes, labels)
    assert set(losses) == {'loss_bce', 'num_regions', 'num_nouns'}
    assert float(losses['num_regions']) == 3 and float(losses['num_nouns']) == 3  # 3 nouns < 100: all of them
    with torch.no_grad():
        regions = model.region_features(images, boxes)
    total = 0.0
    for r, label in zip(regions, [0, 2, 2]):
        for j, n in enumerate(nouns):
            x = 5.0 * float(r @ n)
            total += _softplus(-x) if j == label else _softplus(x)
    assert float(losses['loss_bce'].detach()) == pytest.approx(0.5 * total / 3, rel=1e-5)
    losses['loss_bce'].backward()
    blocks = model.student.tower.blocks
    assert all(p.grad is not None for p in blocks[0].parameters())   # the blocks train
    assert model.student.clip.logit_scale.grad is None and not model.student.clip.logit_scale.requires_grad
    assert all(p.grad is None for p in model.teacher.parameters())   # the teacher is only the export's other half


def test_logit_scale_is_the_clips_own_frozen_and_an_empty_batch_gives_a_zero_that_backpropagates():
    model = RegionCLIP(clip=TINY, noun_embeddings=torch.randn(4, 64))
    assert float(model.logit_scale) == pytest.approx(float(model.student.clip.logit_scale.exp()))
    assert not model.logit_scale.requires_grad
    assert 'noun_embeddings' not in model.state_dict()  # checkpoints hold the CLIPs only
    losses = model.loss(torch.zeros(1, 3, 32, 32), [torch.zeros(0, 4)], [torch.zeros(0, dtype=torch.long)])
    assert float(losses['loss_bce'].detach()) == 0 and float(losses['num_regions']) == 0
    losses['loss_bce'].backward()


# -- the sampled nouns ------------------------------------------------------------------------------------------
def test_sampled_nouns_keep_the_present_ones_up_to_100_and_repeat_under_a_seed():
    labels = torch.tensor([7, 4763, 7, 12, 0])
    a = sample_nouns(labels, 4764, generator=torch.Generator().manual_seed(3))
    b = sample_nouns(labels, 4764, generator=torch.Generator().manual_seed(3))
    c = sample_nouns(labels, 4764, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert len(a) == 100 and len(set(a.tolist())) == 100 and a.dtype == torch.long
    assert a[:4].tolist() == [0, 7, 12, 4763]  # the present nouns first, sorted
    assert int(a.min()) >= 0 and int(a.max()) < 4764
    # a small vocabulary: every noun; more than 100 present: all of them and no others
    assert sorted(sample_nouns(torch.tensor([2, 2]), 10).tolist()) == list(range(10))
    many = torch.arange(0, 300, 2)
    assert sample_nouns(many, 4764).tolist() == many.tolist()
    assert len(sample_nouns(torch.tensor([1]), 4764, max_nouns=5)) == 5


def test_loss_scores_the_sampled_nouns_only():
    torch.manual_seed(0)
    nouns = torch.randn(300, 64)
    model = RegionCLIP(clip=TINY, noun_embeddings=nouns, logit_scale=10.0)
    images = torch.randint(0, 256, (1, 3, 48, 48), dtype=torch.uint8)
    boxes, labels = [torch.tensor([[0.0, 0.0, 40.0, 40.0], [8.0, 8.0, 24.0, 30.0]])], [torch.tensor([5, 299])]
    losses = model.loss(images, boxes, labels, generator=torch.Generator().manual_seed(9))
    assert float(losses['num_nouns']) == 100
    sampled = sample_nouns(torch.tensor([5, 299]), 300, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        regions = model.region_features(images, boxes)
    expected = federated_bce(regions, torch.tensor([5, 299]), model.noun_embeddings, sampled, 10.0)
    assert float(losses['loss_bce'].detach()) == pytest.approx(float(expected), rel=1e-6)


# -- inputs and their errors ------------------------------------------------------------------------------------
def _box_file(tmp_path, annotations=None):
    """Three 40x30 images, nouns with ids 30, 10, 20 (labels by sorted id: 10 -> 0, 20 -> 1, 30 -> 2)."""
    img_dir = tmp_path / 'images'
    img_dir.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for i in (1, 2, 3):
        Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(img_dir / f'{i}.png')
    if annotations is None:
        annotations = [dict(id=1, image_id=1, category_id=30, bbox=[2, 3, 10, 12]),
                       dict(id=2, image_id=1, category_id=10, bbox=[0, 0, 40, 30]),
                       dict(id=3, image_id=3, category_id=20, bbox=[5, 5, 4, 4])]
    data = dict(images=[dict(id=i, file_name=f'{i}.png', width=40, height=30) for i in (1, 2, 3)],
                annotations=annotations,
                categories=[dict(id=30, name='zebra'), dict(id=10, name='apple'), dict(id=20, name='man')])
    (tmp_path / 'boxes.json').write_text(json.dumps(data))
    return 'boxes.json'


def test_dataset_reads_boxes_with_noun_labels(tmp_path):
    ann = _box_file(tmp_path)
    ds = RegionNounDataset(data_root=str(tmp_path), ann_file=ann, img_dir='images', student_size=80,
                           nouns=['apple', 'man', 'zebra'])
    assert len(ds) == 2 and ds.nouns == ['apple', 'man', 'zebra']  # image 2 has no box: not used
    item = ds[0]
    assert item['image'].shape == (3, 80, 80) and item['image'].dtype == torch.uint8
    assert item['labels'].tolist() == [2, 0] and item['labels'].dtype == torch.long
    assert torch.allclose(item['boxes'], torch.tensor([[4.0, 6.0, 24.0, 30.0], [0.0, 0.0, 80.0, 60.0]]))  # scale 2
    first = RegionNounDataset(data_root=str(tmp_path), ann_file=ann, img_dir='images', max_boxes=1)[0]
    assert first['labels'].tolist() == [2]  # the first boxes in file order
    with pytest.raises(ValueError, match="noun 1 is 'man' but the given nouns has 'woman'"):
        RegionNounDataset(data_root=str(tmp_path), ann_file=ann, img_dir='images', nouns=['apple', 'woman', 'zebra'])


def test_noun_embedding_files_pt_and_npy(tmp_path):
    ann = _box_file(tmp_path)
    emb = torch.randn(3, 64)
    vocab = load_vocabulary(str(tmp_path / ann))  # the box file's nouns, in id order
    assert vocab.names == ['apple', 'man', 'zebra']
    save_text_embeddings(tmp_path / 'nouns.pt', vocab.names, emb, model_name='EVA02-Tiny-8')
    np.save(tmp_path / 'nouns.npy', emb.numpy())
    for name in ('nouns.pt', 'nouns.npy'):
        path = str(tmp_path / name)
        names, loaded = load_noun_embeddings(path)
        assert torch.allclose(loaded, emb) and names == (vocab.names if name.endswith('.pt') else None)
        RegionNounDataset(data_root=str(tmp_path), ann_file=ann, img_dir='images', nouns=path)
        model = RegionCLIP(clip=TINY, noun_embeddings=path)
        assert torch.allclose(model.noun_embeddings, torch.nn.functional.normalize(emb, dim=-1))
    np.save(tmp_path / 'four.npy', np.zeros((4, 64), np.float32))
    with pytest.raises(ValueError, match='has 3 nouns but .*four.npy has 4 rows'):
        RegionNounDataset(data_root=str(tmp_path), ann_file=ann, img_dir='images', nouns=str(tmp_path / 'four.npy'))


def test_bad_inputs_raise_clear_errors(tmp_path):
    ann = _box_file(tmp_path)
    with pytest.raises(FileNotFoundError, match='missing.pt not found.*gen_text_embeddings'):
        RegionCLIP(clip=TINY, noun_embeddings=str(tmp_path / 'missing.pt'))
    with pytest.raises(FileNotFoundError, match='missing.pt not found'):
        RegionNounDataset(data_root=str(tmp_path), ann_file=ann, img_dir='images', nouns=str(tmp_path / 'missing.pt'))
    np.save(tmp_path / 'flat.npy', np.zeros(64, np.float32))
    with pytest.raises(ValueError, match=r'flat.npy: noun embeddings must be a float \[C, D\] array'):
        RegionCLIP(clip=TINY, noun_embeddings=str(tmp_path / 'flat.npy'))
    with pytest.raises(ValueError, match=r'are \(3, 32\), expected \[C, 64\]'):
        RegionCLIP(clip=TINY, noun_embeddings=torch.randn(3, 32))
    model = RegionCLIP(clip=TINY, noun_embeddings=torch.randn(3, 64))
    images, boxes = torch.zeros(1, 3, 32, 32), [torch.tensor([[0.0, 0.0, 16.0, 16.0]])]
    with pytest.raises(ValueError, match='noun label 3 out of range.*0 to 2'):
        model.loss(images, boxes, [torch.tensor([3])])
    with pytest.raises(ValueError, match='noun label -1 out of range'):
        model.loss(images, boxes, [torch.tensor([-1])])
    with pytest.raises(ValueError, match='one label per box'):
        model.loss(images, boxes, [torch.tensor([0, 1])])
    with pytest.raises(FileNotFoundError, match='box file not found'):
        RegionNounDataset(data_root=str(tmp_path), ann_file='nope.json')
    _box_file(tmp_path, annotations=[dict(id=1, image_id=1, category_id=99, bbox=[0, 0, 5, 5])])
    with pytest.raises(ValueError, match='annotation 0 has category_id 99'):
        RegionNounDataset(data_root=str(tmp_path), ann_file=ann, img_dir='images')
    _box_file(tmp_path, annotations=[dict(id=1, image_id=1, category_id=10)])
    with pytest.raises(ValueError, match='annotation 0 needs "image_id", "category_id" and "bbox"'):
        RegionNounDataset(data_root=str(tmp_path), ann_file=ann, img_dir='images')


# -- configs ----------------------------------------------------------------------------------------------------
EXPECTED = {  # model, alpha, student size, eval dense size, eval crop size, grad checkpointing
    'eva02-b16': ('EVA02-B-16', 0.7, 1024, 224, False), 'eva02-l14-336': ('EVA02-L-14-336', 0.95, 896, 336, True),
    'tiny': ('EVA02-Tiny-8', 0.7, 128, 64, False)}


def test_the_published_configs_exist():
    assert [os.path.basename(c) for c in CONFIGS] == [
        'regionclip_eva02-b16_coco-pseudo_6e.py', 'regionclip_eva02-l14-336_coco-pseudo_6e.py',
        'regionclip_tiny_synthetic.py']


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    key = os.path.basename(path).split('_')[1]
    model_name, alpha, student, crop, checkpointing = EXPECTED[key]
    m = cfg.model
    assert m.type == 'RegionCLIP' and m.clip.model_name == model_name and m.alpha == alpha
    assert m.max_nouns == 100 and m.get('logit_scale') is None and m.get('loss_weight', 1.0) == 1.0
    assert m.get('grad_checkpointing', False) == checkpointing
    ds = dict(cfg.train_dataloader.dataset)
    assert ds.pop('type') == 'RegionNounDataset' and ds['student_size'] == student and ds['max_boxes'] == 20
    assert ds['nouns'] == m.noun_embeddings  # the dataset checks the model's nouns against its box file
    assert cfg.val_dataloader.dataset.crop_size == crop
    ds.pop('generate', None)
    inspect.signature(RegionNounDataset).bind(**ds)  # every key is a real argument
    if key != 'tiny':  # the reference's scripts: lr 1e-5, wd 0.1, 6 epochs, 2 images x 8 GPUs, 1000 warm-up steps
        assert m.clip.pretrained.startswith('checkpoints/') and m.noun_embeddings.startswith('data/embeddings/')
        assert ds['ann_file'] == 'coco_pseudo_4764.json' and ds['img_dir'] == 'train2017/'
        assert cfg.optim_wrapper.optimizer.lr == 1e-5 and cfg.optim_wrapper.optimizer.weight_decay == 0.1
        assert cfg.train_cfg.max_epochs == 6 and cfg.train_dataloader.batch_size == 2
        assert cfg.param_scheduler[0].end == 1000 and cfg.val_dataloader.dataset.dense_size == student
    m.clip = dict(TINY)
    m.noun_embeddings = torch.randn(5, 64)
    with DefaultScope.overwrite_default_scope('clipself'):
        model = MODELS.build(m)
    assert model.alpha == alpha and not model.teacher.training and len(model.noun_embeddings) == 5


# -- a tiny run through tools/train.py --------------------------------------------------------------------------
def test_tiny_config_trains_and_exports(tmp_path):
    config = os.path.join(ROOT, 'configs', 'clipself', 'regionclip_tiny_synthetic.py')
    work = tmp_path / 'work'
    cmd = [sys.executable, os.path.join(ROOT, 'tools', 'train.py'), config, '--work-dir', str(work), '--cfg-options',
           f'train_dataloader.dataset.data_root={tmp_path}/data/', 'train_dataloader.dataset.generate.num_images=8',
           'train_cfg.max_epochs=1', 'train_cfg.val_interval=2', 'default_hooks.logger.interval=1']
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    rows = [json.loads(line) for f in glob.glob(str(work / '*' / 'vis_data' / 'scalars.json')) for line in open(f)]
    losses = [r['loss_bce'] for r in rows if 'loss_bce' in r]
    assert len(losses) == 2 and all(math.isfinite(x) and x > 0 for x in losses)
    assert all(r['num_nouns'] == 8 for r in rows if 'num_nouns' in r)
    from clipself.models import build_clip
    exported = work / 'exported' / 'epoch_1.safetensors'
    assert build_clip('EVA02-Tiny-8', pretrained=str(exported)).load_report.format == 'clipself'
