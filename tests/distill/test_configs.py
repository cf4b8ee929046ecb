"""Every CLIPSelf config loads, names real files where users put them, and builds (tiny tower swapped in)."""
import glob
import inspect
import os

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import clipself.engine  # noqa: F401  (registers the CLIPSelf modules)
from clipself.data.distill_dataset import CLIPSelfDataset
from clipself.registry import MODELS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sorted(glob.glob(os.path.join(ROOT, 'configs', 'clipself', 'clipself_*.py')))
EXPECTED = {  # model, alpha, student size, teacher size
    'eva02-b16': ('EVA02-B-16', 0.7, 1024, 224), 'eva02-l14-336': ('EVA02-L-14-336', 0.95, 896, 336),
    'vit-b16': ('ViT-B-16', 0.7, 1024, 224), 'tiny': ('EVA02-Tiny-8', 0.7, 128, 64)}


def test_the_published_configs_exist():
    names = {os.path.basename(c) for c in CONFIGS}
    for name in ('clipself_eva02-b16_coco-patches_6e.py', 'clipself_eva02-b16_coco-proposals_6e.py',
                 'clipself_eva02-l14-336_coco-patches_6e.py', 'clipself_eva02-l14-336_coco-proposals_6e.py',
                 'clipself_vit-b16_coco-patches_6e.py', 'clipself_tiny_synthetic.py',
                 'clipself_eva02-b16_coco-patches_6e_window-attn.py',
                 'clipself_eva02-l14-336_coco-patches_6e_window-attn.py'):
        assert name in names


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    key = os.path.basename(path).split('_')[1]
    model_name, alpha, student, teacher = EXPECTED[key]
    assert cfg.model.type == 'CLIPSelf' and cfg.model.clip.model_name == model_name
    assert cfg.model.alpha == alpha
    ds = dict(cfg.train_dataloader.dataset)
    assert ds.pop('type') == 'CLIPSelfDataset'
    assert ds['student_size'] == student and ds['crop_size'] == teacher
    ds.pop('generate', None)
    inspect.signature(CLIPSelfDataset).bind(**ds)  # every key is a real argument
    if 'proposals' in path:
        assert ds['sampler'] == 'proposals' and ds['proposal_file']
    if key != 'tiny':
        assert cfg.model.clip.pretrained.startswith('checkpoints/')
        assert cfg.optim_wrapper.optimizer.lr == 1e-5 and cfg.optim_wrapper.optimizer.weight_decay == 0.1
        assert cfg.train_cfg.max_epochs == 6 and cfg.train_dataloader.batch_size == 2
        assert cfg.param_scheduler[0].end == 1000
    window = cfg.model.clip.get('window_attention')
    if window:
        assert window['window_size'] == 16 and len(window['blocks']) == (8 if key == 'eva02-b16' else 20)
    cfg.model.clip = dict(model_name='EVA02-Tiny-8' if 'eva' in key else 'ViT-Tiny-8', pretrained=None)
    with DefaultScope.overwrite_default_scope('clipself'):
        model = MODELS.build(cfg.model)
    assert model.alpha == alpha and not model.teacher.training
