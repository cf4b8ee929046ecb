"""Text embeddings: the prompt ensemble equals the per-class definition, the file format round-trips and
rejects inconsistent files by name, and tools/gen_text_embeddings.py works end to end."""
import importlib.util
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from clipself.models import build_clip, save_safetensors
from clipself.models.text import (SINGLE_TEMPLATES, VILD_TEMPLATES, build_text_embeddings, load_text_embeddings,
                                  make_prompts, save_text_embeddings)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, 'tools', 'gen_text_embeddings.py')
NAMES = ['cat', 'umbrella', 'traffic light', 'bolt']


def _randomise(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.clip.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2 + (0.5 if p.dim() == 1 else 0.0))
    return model


@pytest.fixture(scope='module')
def model():
    return _randomise(build_clip('ViT-Tiny-8'))


def _direct(model, names, templates):
    """The definition, one class at a time: normalise each prompt's embedding, average, normalise."""
    out = []
    with torch.no_grad():
        for name in names:
            e = model.encode_text(model.tokenize(make_prompts(name, templates)), normalize=True)
            out.append(F.normalize(e.mean(0), dim=0))
    return torch.stack(out)


def test_prompts_articles_and_this_is():
    p = make_prompts('apple')
    assert len(p) == len(VILD_TEMPLATES) == 63
    assert p[0] == 'There is an apple in the scene.'
    assert 'This is a photo of an apple.' in p and 'itap of my apple.' in p
    assert 'This is an embroidered apple.' in p
    assert all(x.startswith(('This is ', 'There is ', 'itap ')) for x in p)
    assert make_prompts('cat', 'single') == ['a photo of a cat.'] and len(SINGLE_TEMPLATES) == 1
    assert make_prompts('umbrella', 'single') == ['a photo of an umbrella.']
    assert make_prompts('cat', ['{} here', 'one {article} {}']) == ['cat here', 'one a cat']
    with pytest.raises(ValueError, match='unknown template set'):
        make_prompts('cat', 'no-such-set')
    with pytest.raises(ValueError, match='format strings'):
        make_prompts('cat', ['no placeholder'])


@pytest.mark.parametrize('templates, batch_size', [('vild', 50), ('vild', 4096), ('single', 3)])
def test_ensemble_equals_direct_loop(model, templates, batch_size):
    emb = build_text_embeddings(model, NAMES, templates=templates, batch_size=batch_size)
    assert emb.shape == (len(NAMES), model.embed_dim) and emb.dtype == torch.float32
    assert not emb.requires_grad
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(len(NAMES)))
    torch.testing.assert_close(emb, _direct(model, NAMES, templates), rtol=0, atol=1e-5)


def test_ensemble_differs_from_single_prompt(model):
    vild = build_text_embeddings(model, NAMES)
    single = build_text_embeddings(model, NAMES, templates='single')
    assert (vild - single).abs().max() > 1e-3
    assert not torch.allclose(vild[0], vild[1])  # classes differ


def test_eva_model_and_bad_inputs():
    eva = _randomise(build_clip('EVA02-Tiny-8'))
    emb = build_text_embeddings(eva, ['cat', 'dog'], templates='single')
    torch.testing.assert_close(emb, _direct(eva, ['cat', 'dog'], 'single'), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match='no class names'):
        build_text_embeddings(eva, [])
    with pytest.raises(ValueError, match='non-empty strings'):
        build_text_embeddings(eva, ['cat', '  '])


def test_save_load_round_trip(tmp_path, model):
    emb = build_text_embeddings(model, NAMES, templates='single')
    path = tmp_path / 'sub' / 'emb.pt'
    save_text_embeddings(path, ['cat', 'umbrella', 'traffic_light', 'bolt_(for_a_door)'], emb,
                         model_name=model.model_name, templates='single')
    assert os.listdir(path.parent) == ['emb.pt']  # no temporary file left behind
    d = load_text_embeddings(path)
    assert d['class_names'] == ['cat', 'umbrella', 'traffic_light', 'bolt_(for_a_door)']
    assert d['model_name'] == 'ViT-Tiny-8' and d['templates'] == 'single'
    torch.testing.assert_close(d['embeddings'], emb, rtol=0, atol=0)
    assert d['embeddings'].device.type == 'cpu'


def test_save_rejects_mismatch(tmp_path):
    with pytest.raises(ValueError, match='3 class names but 2 embeddings'):
        save_text_embeddings(tmp_path / 'x.pt', ['a', 'b', 'c'], torch.randn(2, 8), model_name='m')
    with pytest.raises(ValueError, match=r'\[N, D\]'):
        save_text_embeddings(tmp_path / 'x.pt', ['a', 'b'], torch.randn(2, 8, 1), model_name='m')
    assert not os.listdir(tmp_path)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / 'emb.pt'
    save_text_embeddings(path, ['a', 'b'], torch.randn(2, 8), model_name='m')
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        f.write(b'partial')
        raise OSError('disk full')
    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        save_text_embeddings(path, ['a', 'b', 'c'], torch.randn(3, 8), model_name='m')
    assert path.read_bytes() == before and os.listdir(tmp_path) == ['emb.pt']


@pytest.mark.parametrize('payload, message', [
    ({'class_names': ['a', 'b', 'c'], 'embeddings': torch.randn(2, 8), 'model_name': 'm', 'templates': 'vild'},
     '3 class names but 2 embeddings'),
    ({'class_names': ['a', 'b'], 'embeddings': torch.randn(2 * 8), 'model_name': 'm', 'templates': 'vild'},
     r'\[N, D\] float tensor'),
    ({'class_names': ['a'], 'embeddings': torch.ones(1, 8, dtype=torch.long), 'model_name': 'm',
      'templates': 'vild'}, 'float tensor'),
    ({'class_names': ['a', 'b'], 'embeddings': torch.randn(2, 8)}, r"missing keys \['model_name', 'templates'\]"),
    ({'class_names': 'ab', 'embeddings': torch.randn(2, 8), 'model_name': 'm', 'templates': 'vild'},
     'list of strings'),
    (torch.randn(2, 8), 'expected a dict'),
])
def test_load_rejects_bad_files_by_name(tmp_path, payload, message):
    path = tmp_path / 'bad_embeddings.pt'
    torch.save(payload, path)
    with pytest.raises(ValueError, match=message) as e:
        load_text_embeddings(path)
    assert 'bad_embeddings.pt' in str(e.value)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pt'):
        load_text_embeddings(tmp_path / 'nothing.pt')


def test_tool_end_to_end(tmp_path, model):
    """The script, in a fresh process, with the module's weights: same embeddings as in-process."""
    ckpt = save_safetensors(model.clip, str(tmp_path / 'tiny.safetensors'), model_name=model.model_name)
    classes = tmp_path / 'classes.txt'
    classes.write_text('cat\numbrella\nbolt_(for_a_door)\n')
    out = tmp_path / 'out' / 'emb.pt'
    r = subprocess.run([sys.executable, TOOL, '--model', 'ViT-Tiny-8', '--pretrained', ckpt,
                        '--classes', str(classes), '--out', str(out)],
                       capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert f'wrote {out}' in r.stdout and '3 classes' in r.stdout
    d = load_text_embeddings(out)
    assert d['class_names'] == ['cat', 'umbrella', 'bolt_(for_a_door)']  # canonical names stored
    assert d['model_name'] == 'ViT-Tiny-8' and d['templates'] == 'vild'
    expected = _direct(model, ['cat', 'umbrella', 'bolt'], 'vild')  # prompts use the display names
    torch.testing.assert_close(d['embeddings'], expected, rtol=0, atol=1e-5)


def _tool_module():
    spec = importlib.util.spec_from_file_location('gen_text_embeddings', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tool_in_process_builtin_and_errors(tmp_path, capsys):
    tool = _tool_module()
    out = tmp_path / 'coco.pt'
    tool.main(['--model', 'ViT-Tiny-8', '--classes', 'ov-coco', '--out', str(out), '--templates', 'single'])
    d = load_text_embeddings(out)
    assert len(d['class_names']) == 65 and d['embeddings'].shape == (65, 64)
    assert 'random weights' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='unknown vocabulary'):
        tool.main(['--model', 'ViT-Tiny-8', '--classes', 'nope', '--out', str(tmp_path / 'y.pt')])
    assert not (tmp_path / 'y.pt').exists()
