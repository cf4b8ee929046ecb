"""The DeCLIP-style distillation configs (configs/declip/declip_*.py) state DeCLIP's recipe, build with tiny towers
swapped in and run a distillation step; the tiny one trains with the runner, and its export records the decoupled
block, which build_clip then runs."""
import glob
import json
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import clipself.engine  # noqa: F401  (registers the CLIPSelf modules)
from clipself.registry import MODELS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG_DIR = os.path.join(ROOT, 'configs', 'declip')
CONFIGS = sorted(glob.glob(os.path.join(CONFIG_DIR, 'declip_*.py')))
EXPECTED = {  # model, alpha, DINOv2 teacher
    'eva02-b16': ('EVA02-B-16', 0.7, 'vit_base_patch14_reg4_dinov2'),
    'eva02-l14-336': ('EVA02-L-14-336', 0.95, 'vit_large_patch14_reg4_dinov2'),
    'tiny': ('EVA02-Tiny-8', 0.7, None)}
TINY_DINO = dict(arch='vit_small_patch14_reg4_dinov2', model_kwargs=dict(depth=1, embed_dim=32, num_heads=2))


def test_the_configs_exist():
    assert [os.path.basename(c) for c in CONFIGS] == [
        'declip_eva02-b16_coco-patches_6e_dinov2-b.py', 'declip_eva02-b16_coco-patches_6e_self.py',
        'declip_eva02-l14-336_coco-patches_6e_dinov2-l.py', 'declip_tiny_synthetic.py']


def _batch(size):
    g = torch.Generator().manual_seed(0)
    image = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=g) for _ in range(2)]
    boxes = [torch.tensor([[0.0, 0.0, 40.0, 40.0], [8.0, 16.0, 60.0, 50.0]]), torch.tensor([[4.0, 4.0, 50.0, 60.0]])]
    crops = [torch.randint(0, 256, (len(b), 3, 64, 64), dtype=torch.uint8, generator=g) for b in boxes]
    return dict(image=image, boxes=boxes, crops=crops)


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_states_the_recipe_builds_and_steps(path):
    cfg = Config.fromfile(path)
    key = os.path.basename(path).split('_')[1]
    model_name, alpha, dino = EXPECTED[key]
    m = cfg.model
    assert m.type == 'CLIPSelf' and m.clip.model_name == model_name and m.alpha == alpha
    assert m.clip.dense_mode == 'qq' and m.loss_context_weight == 0.1
    teacher = dict(m.context_teacher)
    if key != 'tiny':
        assert cfg.train_dataloader.dataset.student_size == 560 and cfg.val_dataloader.dataset.dense_size == 560
        assert cfg.train_dataloader.dataset.sampler == 'grid'  # DeCLIP's image patches
        assert cfg.optim_wrapper.optimizer.lr == 1e-5 and cfg.train_cfg.max_epochs == 6
        assert m.clip.pretrained.startswith('checkpoints/')
        if teacher['type'] == 'dinov2':
            assert teacher['arch'] == dino and teacher['weights'].startswith('checkpoints/dinov2_')
        else:
            assert teacher == dict(type='self', block=5)
    # tiny towers swapped in: the CLIP, and a tiny random DINOv2 of the same family
    m.clip = dict(model_name='EVA02-Tiny-8', pretrained=None, dense_mode=m.clip.dense_mode)
    if teacher['type'] == 'dinov2':
        m.context_teacher = dict(type='dinov2', allow_random=True, **TINY_DINO)
    else:
        m.context_teacher = dict(type='self', block=min(teacher['block'], 2))
    with DefaultScope.overwrite_default_scope('clipself'):
        model = MODELS.build(m)
    model.train()
    losses = model(**_batch(72), mode='loss')
    assert {'loss_cosine', 'loss_context'} <= set(losses)
    total = sum(v for k, v in losses.items() if k.startswith('loss_'))
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_the_tiny_config_trains_and_exports_its_mode(tmp_path):
    from mmengine.runner import Runner

    from clipself.models import build_clip
    from clipself.models.dense_mode import DenseMode
    cfg = Config.fromfile(os.path.join(CONFIG_DIR, 'declip_tiny_synthetic.py'))
    ds = cfg.train_dataloader.dataset
    ds.update(data_root=str(tmp_path / 'data') + '/', generate=dict(num_images=4, seed=0, size=(96, 96)),
              student_size=64)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.param_scheduler = None
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False)
    cfg.custom_hooks = [dict(type='ExportCLIPHook'), dict(type='NonFiniteLossHook')]
    cfg.work_dir = str(tmp_path / 'work')
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.train()
    exported = tmp_path / 'work' / 'exported' / 'iter_2.safetensors'
    from safetensors import safe_open
    with safe_open(str(exported), framework='pt') as f:
        assert json.loads(f.metadata()['extra'])['dense_mode'] == {'kind': 'qq', 'scale': True, 'rope': True}
    assert build_clip('EVA02-Tiny-8', str(exported)).dense_mode == DenseMode('qq')
    # tools/export_clip.py on the training checkpoint records it too
    import importlib.util
    spec = importlib.util.spec_from_file_location('export_tool', os.path.join(ROOT, 'tools', 'export_clip.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'tool.safetensors'
    tool.main([str(tmp_path / 'work' / 'iter_2.pth'), str(out)])
    assert build_clip('EVA02-Tiny-8', str(out)).dense_mode == DenseMode('qq')
