"""Checkpoint formats: each file written here in the real layout loads into a model that gives the same
outputs as the model that wrote it; bad files fail with errors that name the problem."""
import os

import pytest
import torch
import torch.nn as nn

from clipself.models import CheckpointError, build_clip, read_checkpoint, save_safetensors, to_eva_clip

torch.manual_seed(0)
IMAGES = torch.randn(2, 3, 80, 96)


def _randomise(model):
    """Random values everywhere (also in LayerNorms/biases that init to constants) so a wrongly mapped
    key changes the outputs."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.clip.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2 + (1.0 if p.dim() == 1 else 0.0) * 0.5)
    return model


def _outputs(model):
    tokens = model.tokenize(['a photo of a cat', 'a dog'])
    with torch.no_grad():
        return model.encode_dense(IMAGES), model.encode_image(IMAGES[:, :, :64, :64]), model.encode_text(tokens)


def _assert_same(a, b):
    for x, y in zip(_outputs(a), _outputs(b)):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-6)


@pytest.fixture(scope='module')
def eva():
    return _randomise(build_clip('EVA02-Tiny-8'))


@pytest.fixture(scope='module')
def vit():
    return _randomise(build_clip('ViT-Tiny-8'))


def test_open_clip_state_dict_round_trip(tmp_path, eva, vit):
    for model in (eva, vit):
        path = tmp_path / f'{model.model_name}.pt'
        torch.save(model.clip.state_dict(), path)
        loaded = build_clip(model.model_name, pretrained=path)
        assert loaded.load_report.format == 'open_clip'
        assert not loaded.load_report.missing and not loaded.load_report.unexpected
        _assert_same(model, loaded)


def test_eva_clip_layout_keys_match_the_original_release(eva):
    sd = to_eva_clip(eva.clip.state_dict())
    for key in ('visual.blocks.0.attn.q_proj.weight', 'visual.blocks.0.attn.q_bias', 'visual.blocks.0.attn.v_bias',
                'visual.blocks.0.attn.k_proj.weight', 'visual.blocks.0.attn.inner_attn_ln.weight',
                'visual.blocks.0.mlp.w1.weight', 'visual.blocks.0.mlp.w2.weight', 'visual.blocks.0.mlp.w3.weight',
                'visual.blocks.0.mlp.ffn_ln.weight', 'visual.head.weight', 'visual.pos_embed', 'visual.cls_token',
                'visual.patch_embed.proj.weight', 'visual.norm.weight', 'text.token_embedding.weight',
                'text.transformer.resblocks.0.attn.in_proj_weight', 'text.text_projection', 'logit_scale'):
        assert key in sd, key
    assert not any('trunk' in k or 'fc1_g' in k or 'q_proj.bias' in k for k in sd)


def _clipself_release_file(eva, path):
    """A released-CLIPSelf-style training checkpoint: EVA-CLIP keys, DDP prefix, RoPE buffers, optimiser."""
    sd = to_eva_clip(eva.clip.state_dict())
    head_dim = 32
    sd['visual.rope.freqs_cos'] = torch.randn(64, head_dim)  # stored by EVA-CLIP, recomputed by us
    sd['visual.rope.freqs_sin'] = torch.randn(64, head_dim)
    sd['visual.blocks.0.attn.rope.freqs_cos'] = torch.randn(64, head_dim)
    ckpt = {'epoch': 6, 'name': 'clipself_eva02_tiny', 'state_dict': {'module.' + k: v for k, v in sd.items()},
            'optimizer': {'state': {}, 'param_groups': [{'lr': 1e-5}]}, 'scaler': {'scale': 65536.0}}
    torch.save(ckpt, path)


def test_eva_clip_and_clipself_release_files(tmp_path, eva):
    plain = tmp_path / 'EVA02_CLIP_tiny.pt'
    torch.save(to_eva_clip(eva.clip.state_dict()), plain)
    released = tmp_path / 'clipself_tiny_epoch_6.pt'
    _clipself_release_file(eva, released)
    for path in (plain, released):
        loaded = build_clip('EVA02-Tiny-8', pretrained=path)
        assert loaded.load_report.format == 'eva_clip'
        # RoPE tables in the file are recomputed, not loaded, and not reported
        assert not loaded.load_report.missing and not loaded.load_report.unexpected, loaded.load_report
        _assert_same(eva, loaded)


def test_timm_image_tower_only(tmp_path, eva):
    path = tmp_path / 'eva_trunk.pth'
    torch.save(eva.clip.visual.trunk.state_dict(), path)
    loaded = build_clip('EVA02-Tiny-8', pretrained=path)
    assert loaded.load_report.format == 'timm'
    assert loaded.load_report.missing and all(k.startswith(('text.', 'logit')) for k in loaded.load_report.missing)
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode_dense(IMAGES), eva.encode_dense(IMAGES), rtol=0, atol=1e-6)


def _openai_state_dict(vit):
    sd = dict(vit.clip.state_dict())
    sd['input_resolution'] = torch.tensor(64)
    sd['context_length'] = torch.tensor(77)
    sd['vocab_size'] = torch.tensor(49408)
    return sd


def test_openai_state_dict_switches_to_quickgelu(tmp_path, vit):
    path = tmp_path / 'ViT-Tiny-8-openai.pt'
    torch.save(_openai_state_dict(vit), path)
    loaded = build_clip('ViT-Tiny-8', pretrained=path)
    assert loaded.load_report.format == 'openai'
    assert loaded.model_name == 'ViT-Tiny-8-quickgelu'
    act = loaded.clip.visual.transformer.resblocks[0].mlp.gelu
    assert type(act).__name__ == 'QuickGELU'
    # same weights with plain GELU give different features: the switch matters
    with torch.no_grad():
        assert (loaded.encode_dense(IMAGES) - vit.encode_dense(IMAGES)).abs().max() > 1e-3
    explicit = build_clip('ViT-Tiny-8', pretrained=path, quick_gelu=False)
    _assert_same(vit, explicit)


class _Holder(nn.Module):
    """Parameters under dotted names, to write a TorchScript archive like OpenAI's release."""

    def __init__(self, sd):
        super().__init__()
        for key, value in sd.items():
            mod = self
            *parents, leaf = key.split('.')
            for p in parents:
                if not hasattr(mod, p):
                    mod.add_module(p, nn.Module())
                mod = getattr(mod, p)
            if value.dtype.is_floating_point:
                mod.register_parameter(leaf, nn.Parameter(value.clone()))
            else:
                mod.register_buffer(leaf, value.clone())

    def forward(self, x):
        return x


def test_openai_jit_archive(tmp_path, vit):
    path = tmp_path / 'ViT-Tiny-8.pt'
    torch.jit.save(torch.jit.trace(_Holder(_openai_state_dict(vit)), torch.zeros(1)), str(path))
    loaded = build_clip('ViT-Tiny-8', pretrained=path)
    assert loaded.load_report.format == 'openai_jit'
    assert loaded.model_name == 'ViT-Tiny-8-quickgelu'
    ref = build_clip('ViT-Tiny-8-quickgelu')
    ref.clip.load_state_dict(vit.clip.state_dict())
    _assert_same(ref, loaded)


def test_safetensors_export_round_trip(tmp_path, eva):
    path = save_safetensors(eva.clip, str(tmp_path / 'export.safetensors'), model_name='EVA02-Tiny-8')
    loaded = build_clip('EVA02-Tiny-8', pretrained=path)
    assert loaded.load_report.format == 'clipself'
    _assert_same(eva, loaded)
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]
    with pytest.raises(CheckpointError, match='exported from'):
        build_clip('ViT-Tiny-8', pretrained=path)


def test_convert_tool(tmp_path, eva):
    import subprocess
    import sys
    src = tmp_path / 'released.pt'
    _clipself_release_file(eva, src)
    dst = tmp_path / 'converted.safetensors'
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, os.path.join(root, 'tools', 'convert_checkpoint.py'), str(src), str(dst),
                          '--model', 'EVA02-Tiny-8'], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr
    assert 'eva_clip' in out.stdout
    _assert_same(eva, build_clip('EVA02-Tiny-8', pretrained=dst))
    back = tmp_path / 'back.pt'
    out = subprocess.run([sys.executable, os.path.join(root, 'tools', 'convert_checkpoint.py'), str(dst), str(back),
                          '--to', 'eva_clip'], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr
    assert read_checkpoint(back)[1] == 'eva_clip'
    _assert_same(eva, build_clip('EVA02-Tiny-8', pretrained=back))


# -- bad input -----------------------------------------------------------------------------------------
def test_unknown_model_name_suggests():
    with pytest.raises(ValueError, match='EVA02-B-16'):
        build_clip('EVA02-B16')


def test_missing_file_says_where(tmp_path):
    with pytest.raises(FileNotFoundError, match='checkpoints/EVA02_CLIP_B_psz16_s8B.pt'):
        build_clip('EVA02-B-16', pretrained=tmp_path / 'nope.pt')
    with pytest.raises(FileNotFoundError, match='never downloads'):
        build_clip('ViT-B-16', pretrained='openai')


def test_corrupt_file(tmp_path):
    path = tmp_path / 'corrupt.pt'
    path.write_bytes(b'\x80\x02not a checkpoint' * 10)
    with pytest.raises(CheckpointError, match='cannot read checkpoint'):
        build_clip('ViT-Tiny-8', pretrained=path)
    trunc = tmp_path / 'truncated.safetensors'
    trunc.write_bytes(b'\x10\x00\x00\x00\x00\x00\x00\x00{"a":')
    with pytest.raises(CheckpointError, match='truncated.safetensors'):
        build_clip('ViT-Tiny-8', pretrained=trunc)


def test_unsafe_pickle_is_refused(tmp_path):
    path = tmp_path / 'evil.pt'
    torch.save({'state_dict': {'visual.conv1.weight': torch.zeros(1)}, 'hook': _Holder({})}, path)
    with pytest.raises(CheckpointError, match='cannot read'):
        build_clip('ViT-Tiny-8', pretrained=path)


def test_other_architecture(tmp_path, eva, vit):
    path = tmp_path / 'vit.pt'
    torch.save(vit.clip.state_dict(), path)
    with pytest.raises(CheckpointError):
        build_clip('EVA02-Tiny-8', pretrained=path)
    bigger = build_clip('ViT-B-32')
    path2 = tmp_path / 'vitb32.pt'
    torch.save(bigger.clip.state_dict(), path2)
    with pytest.raises(CheckpointError, match='shape mismatch|does not fit'):
        build_clip('ViT-Tiny-8', pretrained=path2)


def test_partial_image_tower_is_refused(tmp_path, vit):
    sd = {k: v for k, v in vit.clip.state_dict().items() if 'resblocks.1.' not in k or not k.startswith('visual.')}
    path = tmp_path / 'partial.pt'
    torch.save(sd, path)
    with pytest.raises(CheckpointError, match=r'uninitialised: visual\.transformer\.resblocks\.1\.'):
        build_clip('ViT-Tiny-8', pretrained=path)
