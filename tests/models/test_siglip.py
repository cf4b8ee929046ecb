"""SigLIP / SigLIP2 towers: the dense path through the attention-pooling head, the tokenizer from a local folder
(never downloaded), the open_clip checkpoint layout, SigLIP's normalisation and logit bias."""
import json
import os
import socket

import open_clip
import pytest
import torch
import torch.nn.functional as F

from clipself.models import CheckpointError, build_clip, roi_features, save_safetensors
from clipself.models.siglip import SIGLIP_MEAN, SigLIPTower
from clipself.models.tokenizer import LocalHFTokenizer, MissingTokenizer, build_tokenizer


@pytest.fixture(scope='module')
def tiny():
    torch.manual_seed(0)
    return build_clip('SigLIP-Tiny-8')


@pytest.fixture(scope='module')
def small():  # with open_clip's linear projection after the head (width 128 -> 64)
    torch.manual_seed(1)
    return build_clip('SigLIP-Small-8')


@pytest.fixture(scope='module')
def hub_named(tmp_path_factory):
    """A tiny SigLIP2-style config whose text config names a hub tokenizer, as the real ones do."""
    folder = tmp_path_factory.mktemp('configs')
    cfg = json.load(open(os.path.join(os.path.dirname(open_clip.__file__), 'model_configs', 'ViT-B-16-SigLIP2.json')))
    cfg['embed_dim'] = 64
    cfg['vision_cfg'] = dict(image_size=64, timm_model_name='clipself_siglip_tiny_patch8_64', timm_model_pretrained=False,
                             timm_pool='map', timm_proj='none')
    cfg['text_cfg'].update(vocab_size=1000, width=64, heads=2, layers=1)
    with open(folder / 'SigLIP2-HubTokenizer-Test-8.json', 'w') as f:
        json.dump(cfg, f)
    open_clip.add_model_config(folder)
    return 'SigLIP2-HubTokenizer-Test-8'


def _randomise(model):
    """Random (not the init's zero) biases, layer-norm affines and position embedding."""
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, p in model.clip.visual.named_parameters():
            if p.dim() == 1 or 'pos_embed' in name or 'latent' in name:
                p.add_(0.2 * torch.randn(p.shape, generator=g))
    return model


@pytest.mark.parametrize('which', ['tiny', 'small'])
def test_one_token_grid_dense_equals_pooled_embedding(which, request):
    # attention pooling over a single key returns its value: the dense feature of a 1x1 grid is the embedding
    model = _randomise(request.getfixturevalue(which))
    x = torch.randn(3, 3, 8, 11)  # one 8 px patch (remainder pixels dropped)
    with torch.no_grad():
        dense = model.encode_dense(x)
        pooled = model.encode_image(x)
    assert dense.shape == (3, model.embed_dim, 1, 1)
    torch.testing.assert_close(dense[:, :, 0, 0], pooled, rtol=0, atol=1e-6)


def test_pooled_embedding_is_open_clips_at_the_pretraining_size(small):
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ours = small.encode_image(x)
        theirs = small.clip.encode_image(x, normalize=True)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)


def test_dense_path_is_the_attention_free_head_on_timms_tokens(small):
    """At the pre-training size: timm's own trunk, then V of kv, proj, the head's MLP, the projection."""
    t = small.tower.trunk
    pool = t.attn_pool
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        tokens = t.forward_features(x)  # shape: [2, 64, 128] (normed)
        v = pool.kv(tokens)[..., t.embed_dim:]
        y = pool.proj(v)
        y = y + pool.mlp(pool.norm(y))
        y = F.normalize(small.clip.visual.head(y), dim=-1)  # shape: [2, 64, 64]
        dense = small.encode_dense(x)
    torch.testing.assert_close(dense, y.transpose(1, 2).reshape(2, -1, 8, 8), rtol=0, atol=1e-5)


def test_any_size_batched_equals_one_by_one_and_regions_pool(tiny):
    x = torch.randn(2, 3, 75, 61)
    with torch.no_grad():
        dense = tiny.encode_dense(x)
        one = torch.cat([tiny.encode_dense(x[i:i + 1]) for i in range(2)])
    assert dense.shape == (2, 64, 9, 7)
    torch.testing.assert_close(dense, one, rtol=0, atol=1e-5)
    torch.testing.assert_close(dense.norm(dim=1), torch.ones(2, 9, 7))
    regs = tiny.roi_features(dense, [torch.tensor([[0., 0., 40., 30.]]), torch.zeros(0, 4)])
    assert regs.shape == (1, 64)
    feats = tiny.forward_features(x, [0, 2])
    assert [f.shape for f in feats] == [(2, 64, 9, 7)] * 2   # no CLS token to drop


def test_position_embedding_resized_without_antialiasing(tiny):
    """The grid's embedding is the bicubic, align_corners=False, non-antialiased resize of the 8x8 table."""
    t = tiny.tower.trunk
    pe = t.pos_embed[0].T.reshape(1, 64, 8, 8)
    want = F.interpolate(pe, size=(5, 3), mode='bicubic', align_corners=False, antialias=False)
    x, grid, _ = tiny.tower.embed(torch.zeros(1, 3, 40, 24))
    bias = t.patch_embed.proj.bias
    torch.testing.assert_close(x[0] - bias, want.reshape(64, -1).T, rtol=0, atol=1e-6)
    assert grid == (5, 3)


def test_siglip_normalisation_and_logit_bias(tiny):
    assert tiny.image_mean == SIGLIP_MEAN and tiny.image_std == SIGLIP_MEAN
    assert tiny.logit_scale == pytest.approx(10.0, rel=1e-5) and tiny.logit_bias == -10.0
    assert build_clip('ViT-Tiny-8').logit_bias is None


def test_options_that_need_a_cls_token_are_refused(tiny):
    with pytest.raises(ValueError, match='window attention is not supported'):
        tiny.set_window_attention(4, [0])
    tiny.set_window_attention(0)  # global attention: fine (what the CLIPSelf teacher asks)
    from clipself.models.last_block import LastBlock
    with pytest.raises(ValueError, match='not defined for SigLIP'):
        tiny.encode_dense(torch.randn(1, 3, 16, 16), last_block=LastBlock('sclip'))
    with pytest.raises(ValueError, match='not supported on SigLIP'):
        build_clip('SigLIP-Tiny-8', conv_branch=dict(blocks=[0]))


def test_open_clip_checkpoint_layout_loads(tmp_path):
    """The files of the hub repositories: open_clip_model.safetensors (no metadata) and
    open_clip_pytorch_model.bin (torch.save of the state dict), open_clip keys."""
    torch.manual_seed(5)
    src = _randomise(build_clip('SigLIP-Tiny-8'))
    with torch.no_grad():
        src.clip.logit_bias.fill_(-12.5)
    sd = src.clip.state_dict()
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in sd.items()}, str(tmp_path / 'open_clip_model.safetensors'))
    torch.save(sd, tmp_path / 'open_clip_pytorch_model.bin')
    x = torch.randn(1, 3, 48, 40)
    with torch.no_grad():
        want = src.encode_dense(x)
    for name in ('open_clip_model.safetensors', 'open_clip_pytorch_model.bin'):
        model = build_clip('SigLIP-Tiny-8', pretrained=tmp_path / name)
        assert model.load_report.format == 'open_clip' and not model.load_report.missing
        assert model.logit_bias == -12.5
        with torch.no_grad():
            torch.testing.assert_close(model.encode_dense(x), want, rtol=0, atol=0)
    with pytest.raises(CheckpointError, match='does not fit'):
        build_clip('SigLIP-Small-8', pretrained=tmp_path / 'open_clip_model.safetensors')
    # our export round-trips too (model name recorded)
    path = save_safetensors(src.clip, str(tmp_path / 'export.safetensors'), model_name='SigLIP-Tiny-8')
    with torch.no_grad():
        torch.testing.assert_close(build_clip('SigLIP-Tiny-8', pretrained=path).encode_image(x), src.encode_image(x))


def test_tiny_towers_tokenize_with_the_bundled_bpe(tiny):
    tokens = tiny.tokenize(['a photo of a red triangle.', 'stripes'])
    assert tokens.shape == (2, 32) and tokens.dtype == torch.long
    assert tiny.encode_text(tokens).shape == (2, 64)


def test_hub_tokenizers_are_never_downloaded(hub_named, tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError(f'network access: {args}')
    monkeypatch.setattr(socket.socket, 'connect', no_network)
    monkeypatch.setattr(socket, 'create_connection', no_network)
    # a random-weight build needs no tokenizer; image paths work; tokenizing says where to put the files
    model = build_clip(hub_named)
    assert isinstance(model.tokenizer, MissingTokenizer)
    assert model.encode_dense(torch.randn(1, 3, 24, 16)).shape == (1, 64, 3, 2)
    with pytest.raises(FileNotFoundError, match=r"timm/ViT-B-16-SigLIP2.*checkpoints/SigLIP2-HubTokenizer-Test-8/"):
        model.tokenize(['a cat'])
    # the real names: no tokenizer, no download, the same message
    assert isinstance(build_tokenizer('ViT-B-16-SigLIP2-384'), MissingTokenizer)
    # a folder without tokenizer files fails at the build, naming it
    with pytest.raises(FileNotFoundError, match='without tokenizer files'):
        build_clip(hub_named, tokenizer=tmp_path / 'nowhere')
    # a folder with them: read from there, lazily, with the config's context length and cleaning
    (tmp_path / 'tok').mkdir()
    (tmp_path / 'tok' / 'tokenizer_config.json').write_text('{}')
    model = build_clip(hub_named, tokenizer=tmp_path / 'tok')
    tok = model.tokenizer
    assert isinstance(tok, LocalHFTokenizer) and tok.folder == str(tmp_path / 'tok')
    assert tok.context_length == 64 and tok.kwargs == dict(clean='canonicalize')
    # ... or beside the checkpoint (a downloaded hub repository)
    save_safetensors(model.clip, str(tmp_path / 'tok' / 'open_clip_model.safetensors'), model_name=hub_named)
    again = build_clip(hub_named, pretrained=tmp_path / 'tok' / 'open_clip_model.safetensors')
    assert isinstance(again.tokenizer, LocalHFTokenizer) and again.tokenizer.folder == str(tmp_path / 'tok')
    with pytest.raises(ValueError, match='bundled tokenizer'):
        build_clip('SigLIP-Tiny-8', tokenizer=tmp_path / 'tok')


def test_local_tokenizer_loads_offline_through_open_clip(tmp_path, monkeypatch):
    """What LocalHFTokenizer asks open_clip's HFTokenizer for: the folder, local files only."""
    import sys
    import types
    monkeypatch.setitem(sys.modules, 'transformers', sys.modules.get('transformers') or types.ModuleType('transformers'))
    seen = {}

    class Fake:
        def __init__(self, name, **kwargs):
            seen.update(name=name, **kwargs)

        def __call__(self, texts, context_length=None):
            return torch.zeros(len(texts), context_length or seen['context_length'], dtype=torch.long)
    monkeypatch.setattr(open_clip.tokenizer, 'HFTokenizer', Fake)
    tok = LocalHFTokenizer(tmp_path, context_length=64, clean='canonicalize')
    assert tok(['a', 'b']).shape == (2, 64)
    assert seen == dict(name=str(tmp_path), context_length=64, local_files_only=True, clean='canonicalize')


def test_missing_transformers_is_a_clear_error(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == 'transformers':
            raise ImportError('No module named transformers')
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, '__import__', fake_import)
    with pytest.raises(ImportError, match='install `transformers`'):
        LocalHFTokenizer(tmp_path, context_length=64)(['a cat'])


def test_siglip_tower_refuses_other_towers():
    with pytest.raises(ValueError, match='AttentionPoolLatent'):
        SigLIPTower(build_clip('EVA02-Tiny-8').clip.visual)


def test_a_real_hugging_face_tokenizer_folder_tokenizes_offline(hub_named, tmp_path, monkeypatch):
    """End to end with the real libraries: a tokenizer folder written by ``transformers`` (a small word-level
    tokenizer instead of the SigLIP2 Gemma one, which cannot be fetched here) is read by ``build_clip(...,
    tokenizer=FOLDER)`` with the network blocked, and the text tower encodes its ids."""
    pytest.importorskip('transformers')
    tokenizers = pytest.importorskip('tokenizers')
    from transformers import PreTrainedTokenizerFast
    words = 'a photo of the circle square triangle star ring stripes in scene'.split()
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(unk_token='<unk>'))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.train_from_iterator([' '.join(words)], tokenizers.trainers.WordLevelTrainer(
        special_tokens=['<pad>', '<unk>', '</s>']))
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token='<pad>', unk_token='<unk>',
                            eos_token='</s>').save_pretrained(str(tmp_path / 'tok'))

    def no_network(*args, **kwargs):
        raise AssertionError(f'network access: {args}')
    monkeypatch.setattr(socket.socket, 'connect', no_network)
    monkeypatch.setattr(socket, 'create_connection', no_network)
    model = build_clip(hub_named, tokenizer=tmp_path / 'tok')
    ids = model.tokenize(['a photo of the star', 'stripes'])
    assert ids.shape == (2, 64) and ids.dtype == torch.long
    vocab = tok.get_vocab()
    assert ids[0, :5].tolist() == [vocab[w] for w in 'a photo of the star'.split()]  # canonicalised, not split
    assert ids[1, 0] == vocab['stripes'] and (ids[1, 1:] == vocab['<pad>']).all()
    assert model.encode_text(ids).shape == (2, 64)
