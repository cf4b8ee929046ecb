"""Post-training quantisation (MPTQ-ViT): SQ-b keeps the float function, OPT-m's ratio lowers the error, more
bits are closer to float, Greedy MP meets its budget, the quantised file loads with build_clip, bad values fail."""
import importlib.util
import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from clipself.models import DenseCLIP, build_clip, save_safetensors
from clipself.models.fake_quant import QuantLinear, activation_params, quantize_activation, quantize_weight
from clipself.quant import quantize_clip, tower_bytes, tower_groups
from clipself.quant.mptq import _fold_sqb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOWERS = ['EVA02-Tiny-8', 'ViT-Tiny-8']


def _calibrate(seed=0):
    g = torch.Generator().manual_seed(seed)
    crops, scenes = torch.randn(2, 3, 64, 64, generator=g), torch.randn(1, 3, 72, 56, generator=g)
    return lambda m: [m.encode_image(crops), m.encode_dense(scenes).flatten(2).transpose(1, 2)]


def _model(name):
    torch.manual_seed(0)
    return build_clip(name)


def _copy(model):
    """A copy of the weights (deep-copying the tokenizer too would cost seconds)."""
    import copy
    return DenseCLIP(clip=copy.deepcopy(model.clip), model_name=model.model_name)


def test_quantisers():
    w = torch.randn(5, 16)
    for b in (4, 6, 8):
        q = quantize_weight(w, b)
        levels = (q / (w.abs().amax(1, keepdim=True) / (2 ** (b - 1) - 1))).round()
        assert all(len(r.unique()) <= 2 ** b for r in levels)
        assert (q - w).abs().max() <= w.abs().max() / (2 ** (b - 1) - 1)
    x = torch.linspace(-0.2, 3.0, 1000)
    s, z = activation_params(-0.2, 3.0, 4)
    assert len(quantize_activation(x, s, z, 4).unique()) <= 16
    s2, _ = activation_params(-0.2, 3.0, 4, ratio=0.5)
    assert s2 == pytest.approx(s / 2)


@pytest.mark.parametrize('name', TOWERS)
def test_sqb_folding_keeps_the_float_function(name):
    model = _model(name)
    calibrate = _calibrate()
    with torch.no_grad():
        before = calibrate(model)
        for g in tower_groups(model.tower):
            if g.norm is not None:
                n = g.modules[g.norm].weight.numel()
                _fold_sqb(g, -torch.rand(n) * 3, torch.rand(n) * 2, 0.5)
        after = calibrate(model)
    for a, b in zip(before, after):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize('name', TOWERS)
def test_more_bits_are_closer_to_float_and_sizes_follow(name):
    model = _model(name)
    full = tower_bytes(model.clip.visual, {})
    specs = {}
    for b in (8, 4):
        m = _copy(model)
        specs[b] = quantize_clip(m, _calibrate(), bits=b)
        assert all(isinstance(m.clip.visual.get_submodule(n), QuantLinear) for n in specs[b]['layers'])
    assert specs[8]['distance'] < 0.01 and specs[8]['distance'] < specs[4]['distance']
    assert specs[4]['tower_mb'] < specs[8]['tower_mb'] < full / 2 ** 20


def test_opt_m_picks_the_ratio_with_the_least_error(monkeypatch):
    import clipself.quant.mptq as mptq
    model = _model('ViT-Tiny-8')
    monkeypatch.setattr(mptq, 'RATIOS', (1.0,))
    plain = quantize_clip(_copy(model), _calibrate(), bits=4)
    monkeypatch.setattr(mptq, 'RATIOS', (1.0, 0.8, 0.6, 0.4))
    searched = quantize_clip(_copy(model), _calibrate(), bits=4)
    post = [n for g in tower_groups(model.tower) if g.post_activation for n in g.linears]
    assert post and all(searched['layers'][n]['act_scale'] <= plain['layers'][n]['act_scale'] + 1e-12 for n in post)


def test_greedy_mixed_precision_meets_the_budget():
    model = _model('ViT-Tiny-8')
    m8 = quantize_clip(_copy(model), _calibrate(), bits=8)
    m4 = quantize_clip(_copy(model), _calibrate(), bits=4)
    budget = (m8['tower_mb'] + m4['tower_mb']) / 2
    mixed = quantize_clip(_copy(model), _calibrate(), bits='mixed', budget_mb=budget)
    used = {v['bits'] for v in mixed['layers'].values()}
    assert mixed['tower_mb'] <= budget and len(used) > 1
    assert m8['distance'] <= mixed['distance']
    with pytest.raises(ValueError, match='below the all-4-bit size'):
        quantize_clip(_copy(model), _calibrate(), bits='mixed', budget_mb=m4['tower_mb'] * 0.99)


def test_bad_values():
    model = _model('ViT-Tiny-8')
    for bad in (5, 16, '8', True):
        with pytest.raises(ValueError, match='bits must be one of'):
            quantize_clip(_copy(model), _calibrate(), bits=bad)
    with pytest.raises(ValueError, match='needs budget_mb'):
        quantize_clip(_copy(model), _calibrate(), bits='mixed')
    with pytest.raises(ValueError, match='calibration set is empty'):
        quantize_clip(_copy(model), lambda m: [m.encode_image(torch.zeros(0, 3, 64, 64))], bits=8)


@pytest.mark.parametrize('name', TOWERS)
def test_the_quantised_file_loads_with_build_clip(name, tmp_path):
    model = _model(name)
    spec = quantize_clip(model, _calibrate(), bits=6)
    path = save_safetensors(model.clip, str(tmp_path / 'q.safetensors'), model_name=name,
                            extra=dict(quantization=spec))
    again = build_clip(name, path)
    calibrate = _calibrate(seed=1)
    with torch.no_grad():
        for a, b in zip(calibrate(model), calibrate(again)):
            assert torch.equal(a, b)
    assert isinstance(again.clip.visual.get_submodule(next(iter(spec['layers']))), QuantLinear)


def _tool():
    spec = importlib.util.spec_from_file_location('quantize_tool', os.path.join(ROOT, 'tools', 'quantize.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


def test_quantize_tool(tmp_path, capsys):
    model = _model('ViT-Tiny-8')
    ckpt = save_safetensors(model.clip, str(tmp_path / 'clip.safetensors'), model_name='ViT-Tiny-8')
    images = tmp_path / 'calib'
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (50 + 7 * i, 70, 3), dtype=np.uint8)).save(images / f'{i}.png')
    out = str(tmp_path / 'q.safetensors')
    main = _tool()
    args = ['ViT-Tiny-8', ckpt, '--calib-dir', str(images), '--calib', '2', '--dense-size', '64', '--out', out]
    main(args + ['--bits', 'mixed', '--budget', '0.3'])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary['tower_mb'] <= 0.3 and os.path.isfile(out)
    assert build_clip('ViT-Tiny-8', out).encode_dense(torch.randn(1, 3, 64, 64)).shape == (1, 64, 8, 8)
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(SystemExit, match='calibration set is empty'):
        main(['ViT-Tiny-8', ckpt, '--calib-dir', str(empty), '--out', out])
    for bits, msg in (('5', 'bits must be one of'), ('x', 'bits must be one of')):
        with pytest.raises(SystemExit, match=msg):
            main(args + ['--bits', bits])
    with pytest.raises(SystemExit, match='below the all-4-bit size'):
        main(args + ['--bits', 'mixed', '--budget', '0.01'])
