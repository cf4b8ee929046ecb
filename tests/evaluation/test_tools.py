"""What users run: `tools/test.py` with the region-classification configs (one process and torchrun), the
checkpoint routing, every config loading and building, and `tools/visualize_dense.py`."""
import glob
import inspect
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import clipself.engine  # noqa: F401  (registrations)
from clipself.data.panoptic import COCOPanopticRegionDataset
from clipself.engine.checkpoints import route_test_checkpoint
from clipself.registry import MODELS
from tests.ports import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = os.path.join(ROOT, 'configs', 'clipself', 'region-cls_tiny_synthetic.py')
CONFIGS = sorted(glob.glob(os.path.join(ROOT, 'configs', 'clipself', 'region-cls_*.py')))
MACC_KEYS = [f'{k}.{g}.macc{t}' for k in ('rois', 'crops', 'maskpool') for g in ('thing', 'stuff') for t in (1, 5)]


def _test_args(work, data, cache):
    return ['--work-dir', str(work), '--out', str(work / 'records.pkl'),
            '--cfg-options', f'test_dataloader.dataset.data_root={data}/', 'test_dataloader.dataset.generate.num_images=7',
            f'model.cache_dir={cache}']


def _run(cmd, timeout=240, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                         env=None if env is None else dict(os.environ, **env))
    return out.returncode, out.stdout + out.stderr


def _records(path):
    """The per-image records ``--out`` dumped, by image id."""
    import pickle
    with open(path, 'rb') as f:
        records = pickle.load(f)
    ids = [r['image_id'] for r in records]
    assert len(set(ids)) == len(ids), ids
    return dict(zip(ids, records))


@pytest.fixture(scope='module')
def single_run(tmp_path_factory):
    base = tmp_path_factory.mktemp('region_cls')
    cmd = [sys.executable, os.path.join(ROOT, 'tools', 'test.py'), TINY, 'random',
           *_test_args(base / 'work', base / 'data', base / 'cache')]
    code, log = _run(cmd)
    assert code == 0, log[-3000:]
    return base, log


def test_tiny_config_end_to_end(single_run):
    base, log = single_run
    saved = json.loads((base / 'work' / 'region_classification.json').read_text())
    m = saved['metrics']
    for key in MACC_KEYS:
        assert m[key] is None or 0.0 <= m[key] <= 100.0, key
        assert key in log  # logged too
    assert m['num_images'] == 7 and m['num_regions.stuff'] == 7 and m['num_regions.thing'] > 0
    assert set(saved['per_class']) == {'rois', 'crops', 'maskpool'}
    assert len(glob.glob(str(base / 'work' / '*' / 'region_classification.json'))) == 1  # beside the run's log
    assert len(list((base / 'cache').iterdir())) == 1  # the class embeddings were cached
    records = _records(base / 'work' / 'records.pkl')   # --out: one record per image
    assert len(records) == 7
    assert sum(len(r['labels']) for r in records.values()) == m['num_regions.thing'] + m['num_regions.stuff']


@pytest.mark.slow
def test_dist_test_sh_counts_each_image_once(single_run):
    """tools/dist_test.sh (torchrun), 7 images on 2 processes: the sampler pads to 8; the gathered results and
    the ``--out`` dump hold each image once and give the numbers and records of the single-process run (same
    seed, same random CLIP)."""
    base, _ = single_run
    work = base / 'work_dist'
    cmd = ['bash', os.path.join(ROOT, 'tools', 'dist_test.sh'), TINY, 'random', '2',
           *_test_args(work, base / 'data', base / 'cache')]
    code, log = _run(cmd, timeout=300, env=dict(PYTHON=sys.executable, MASTER_PORT=str(free_port())))
    assert code == 0, log[-3000:]
    single = json.loads((base / 'work' / 'region_classification.json').read_text())['metrics']
    dist = json.loads((work / 'region_classification.json').read_text())['metrics']
    assert dist['num_images'] == 7
    assert 'Epoch(test) [1/1]' in log and 'Epoch(test) [2/2]' not in log  # 4 images per process, not 7
    for key, value in single.items():
        assert dist[key] == pytest.approx(value, abs=1e-6), key
    one, two = _records(base / 'work' / 'records.pkl'), _records(work / 'records.pkl')
    assert sorted(one) == sorted(two)
    for img_id, r in one.items():
        np.testing.assert_array_equal(r['labels'], two[img_id]['labels'])
        for kind, ranks in r['ranks'].items():
            np.testing.assert_array_equal(ranks, two[img_id]['ranks'][kind])


def test_checkpoint_routing(tmp_path):
    cfg = Config.fromfile(TINY)
    route_test_checkpoint(cfg, 'random')
    assert cfg.model.clip.pretrained is None and cfg.load_from is None
    from clipself.models import build_clip, save_safetensors
    clip_file = tmp_path / 'clip.safetensors'
    save_safetensors(build_clip('EVA02-Tiny-8').clip, str(clip_file), model_name='EVA02-Tiny-8')
    route_test_checkpoint(cfg, str(clip_file))
    assert cfg.model.clip.pretrained == str(clip_file) and cfg.load_from is None
    train_ckpt = tmp_path / 'epoch_1.pth'
    torch.save({'meta': {}, 'state_dict': {}}, train_ckpt)
    route_test_checkpoint(cfg, str(train_ckpt))
    assert cfg.load_from == str(train_ckpt) and cfg.model.clip.pretrained is None
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        route_test_checkpoint(cfg, str(tmp_path / 'nope.pth'))


def test_the_published_configs_exist():
    names = {os.path.basename(c) for c in CONFIGS}
    assert names == {'region-cls_eva02-b16_coco-panoptic.py', 'region-cls_eva02-l14-336_coco-panoptic.py',
                     'region-cls_vit-b16_coco-panoptic.py', 'region-cls_vit-l14-336_coco-panoptic.py',
                     'region-cls_tiny_synthetic.py'}


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'clipself' and cfg.test_cfg.type == 'TestLoop' and cfg.val_cfg.type == 'ValLoop'
    assert cfg.test_evaluator.type == 'RegionClassificationMetric' and cfg.model.type == 'CLIPRegionClassifier'
    name = cfg.model.clip.model_name
    sizes = {'EVA02-B-16': (1024, 224), 'ViT-B-16': (1024, 224), 'EVA02-L-14-336': (896, 336),
             'ViT-L-14-336': (896, 336), 'EVA02-Tiny-8': (128, 64)}[name]
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        ds = dict(loader.dataset)
        assert ds.pop('type') == 'COCOPanopticRegions'
        assert (ds['dense_size'], ds['crop_size']) == sizes
        ds.pop('generate', None)
        inspect.signature(COCOPanopticRegionDataset).bind(**ds)  # every key is a real argument
    if 'tiny' not in path:
        assert cfg.model.clip.pretrained.startswith('checkpoints/')
        assert cfg.test_dataloader.dataset.ann_file == 'annotations/panoptic_val2017.json'
        cfg.model.clip = dict(model_name='EVA02-Tiny-8' if 'eva' in path else 'ViT-Tiny-8', pretrained=None)
    with DefaultScope.overwrite_default_scope('clipself'):
        model = MODELS.build(cfg.model)
    assert model.clip_model.patch_size == (8, 8)


def test_visualize_dense_two_checkpoints_and_a_folder(tmp_path):
    import numpy as np
    from PIL import Image

    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    try:
        import visualize_dense
    finally:
        sys.path.pop(0)
    from clipself.models import build_clip, save_safetensors
    ckpts = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        ckpts.append(str(tmp_path / f'clip{seed}.safetensors'))
        save_safetensors(build_clip('EVA02-Tiny-8').clip, ckpts[-1], model_name='EVA02-Tiny-8')
    folder = tmp_path / 'images'
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, hw in (('wide.png', (40, 70)), ('tall.jpg', (66, 30))):
        Image.fromarray(rng.integers(0, 255, (*hw, 3), dtype=np.uint8)).save(folder / name)
    out = tmp_path / 'out'
    visualize_dense.main([str(folder), '--model', 'EVA02-Tiny-8', '--pretrained', *ckpts, '--queries', 'cat, sofa',
                          '--out', str(out), '--size', '64', '--templates', 'single'])
    written = sorted(p.name for p in out.iterdir())
    assert written == ['tall_dense.png', 'wide_dense.png']
    with Image.open(out / 'wide_dense.png') as im:
        assert im.width > im.height > 100  # 2 rows x 4 columns (image, colours, 2 queries)
    visualize_dense.main([str(folder / 'wide.png'), '--model', 'EVA02-Tiny-8', '--colour', 'kmeans',
                          '--out', str(out / 'km'), '--size', '64'])
    assert (out / 'km' / 'wide_dense.png').stat().st_size > 5000
