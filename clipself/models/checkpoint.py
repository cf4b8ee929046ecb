"""Read CLIP checkpoints in every format users bring, convert them to open_clip keys, load and report.

Formats (detected from the file, not its name):
- ``clipself``: our exported safetensors (open_clip keys, ``model_name`` in the metadata);
- ``open_clip``: open_clip state dicts (``visual.trunk.*`` for timm towers, ``visual.conv1.*`` ...);
- ``eva_clip``: original EVA-CLIP files and released CLIPSelf checkpoints (``visual.blocks.N.attn.q_proj``,
  ``q_bias``/``v_bias``, ``inner_attn_ln``, ``mlp.w1/w2/w3/ffn_ln``, ``visual.head``, ``text.*``), possibly
  wrapped as ``{'epoch', 'name', 'state_dict', ...}`` with a ``module.`` prefix;
- ``openai``: OpenAI CLIP state dicts (``input_resolution`` etc. present); ``openai_jit``: their
  TorchScript archives;
- ``timm``: an image-tower-only timm Eva state dict (``blocks.N.*`` at the top level).

Pickled files are read with ``torch.load(weights_only=True)``; nothing is ever downloaded.
"""
import json
import logging
import os
import zipfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from ..fileio import atomic_path
from .variants import STATE_PREFIX

logger = logging.getLogger(__name__)

StateDict = Dict[str, torch.Tensor]
# keys that files carry but models recompute (RoPE tables, causal masks, HF position ids)
_IGNORED_SUBSTRINGS = ('rope.freqs', 'attn_mask', 'position_ids')
_OPENAI_META = ('input_resolution', 'context_length', 'vocab_size')
_TEXT_PREFIXES = ('text_projection', 'positional_embedding', 'token_embedding', 'transformer', 'ln_final')


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that does not fit the model."""


@dataclass
class LoadReport:
    """What a load did: the source, its format, and the keys that did not match."""
    path: str
    format: str
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)

    def __str__(self) -> str:
        def short(keys):
            return ', '.join(keys[:8]) + (f' ... (+{len(keys) - 8})' if len(keys) > 8 else '')
        s = f'loaded {self.path} ({self.format})'
        if self.missing:
            s += f'; missing {len(self.missing)}: {short(self.missing)}'
        if self.unexpected:
            s += f'; unexpected {len(self.unexpected)}: {short(self.unexpected)}'
        return s


def is_torchscript(path: str) -> bool:
    """A TorchScript archive (the OpenAI CLIP release): a zip with code, read with ``torch.jit.load``."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(n.endswith('constants.pkl') or '/code/' in n for n in zf.namelist())


def read_checkpoint(path: str) -> Tuple[StateDict, str, Dict[str, str]]:
    """Read a checkpoint file into a flat state dict.

    Returns:
        ``(state_dict, format, metadata)``; ``format`` as in the module docstring.
    Raises:
        FileNotFoundError: no such file. CheckpointError: unreadable, or not a CLIP state dict.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    meta: Dict[str, str] = {}
    try:
        if path.endswith('.safetensors'):
            from safetensors import safe_open
            with safe_open(path, framework='pt') as f:
                meta = dict(f.metadata() or {})
                sd = {k: f.get_tensor(k) for k in f.keys()}
            fmt = 'clipself' if meta.get('format') == 'clipself' else None
        elif is_torchscript(path):
            # TorchScript archives (the OpenAI CLIP release) hold code, not pickles; only the weights are used
            sd = dict(torch.jit.load(path, map_location='cpu').state_dict())
            fmt = 'openai_jit'
        else:
            obj = torch.load(path, map_location='cpu', weights_only=True)
            sd, fmt = _unwrap(obj, path), None
    except (FileNotFoundError, CheckpointError):
        raise
    except Exception as e:  # corrupt / truncated / not a checkpoint / unsafe pickle
        raise CheckpointError(f'cannot read checkpoint {path}: {type(e).__name__}: {e}') from e
    if not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(f'{path} does not hold a state dict of tensors')
    if fmt is None:
        fmt = detect_format(sd)
        if fmt is None:
            raise CheckpointError(f'{path}: unrecognised checkpoint layout (first keys: {list(sd)[:5]}); '
                                  'expected an open_clip, EVA-CLIP/CLIPSelf, OpenAI CLIP or timm Eva state dict')
    return sd, fmt, meta


def _unwrap(obj, path: str) -> StateDict:
    """Training checkpoints nest the weights (``state_dict`` / ``model`` / ``module``) and may prefix them
    with ``module.`` (DDP); return the flat weights."""
    if not isinstance(obj, dict):
        raise CheckpointError(f'{path} holds a {type(obj).__name__}, expected a dict of tensors')
    for key in ('state_dict', 'model', 'module'):
        if isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    sd = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if sd and all(k.startswith('module.') for k in sd):
        sd = {k[len('module.'):]: v for k, v in sd.items()}
    return sd


def detect_format(sd: StateDict) -> Optional[str]:
    """Name the layout of a state dict (see module docstring), or None."""
    if any(k.startswith('visual.trunk.') for k in sd):
        return 'open_clip'
    if 'visual.pos_embed' in sd or any(k.startswith('visual.blocks.') for k in sd):
        return 'eva_clip'
    if 'visual.conv1.weight' in sd:
        return 'openai' if any(k in sd for k in _OPENAI_META) else 'open_clip'
    if any(k.startswith('blocks.') for k in sd) and 'patch_embed.proj.weight' in sd:
        return 'timm'
    if any(k.startswith('visual.') for k in sd):
        return 'open_clip'
    return None


def to_open_clip(sd: StateDict, fmt: str, clip: nn.Module) -> StateDict:
    """Convert ``sd`` (in layout ``fmt``) to the keys of the open_clip model ``clip``."""
    sd = {k: v for k, v in sd.items() if k not in _OPENAI_META}
    if fmt in ('eva_clip', 'timm'):
        trunk = getattr(clip.visual, 'trunk', None)
        if trunk is None or type(trunk).__name__ != 'Eva':
            raise CheckpointError(f'an {fmt} checkpoint holds an EVA image tower, but the model is not '
                                  'an EVA02 one (use an EVA02-* model name)')
        from timm.models.eva import checkpoint_filter_fn
        # the trunk is built at its pre-training size, so timm resamples nothing here
        visual = checkpoint_filter_fn(sd, trunk)
        rest = {k: v for k, v in sd.items() if not k.startswith('visual.')} if fmt == 'eva_clip' else {}
        sd = {**{'visual.trunk.' + k: v for k, v in visual.items()}, **rest}
    custom_text = hasattr(clip, 'text') and not hasattr(clip, 'token_embedding')
    if custom_text and any(k.split('.')[0] in _TEXT_PREFIXES for k in sd):
        sd = {('text.' + k if k.split('.')[0] in _TEXT_PREFIXES else k): v for k, v in sd.items()}
    elif not custom_text and any(k.startswith('text.') for k in sd):
        sd = {(k[len('text.'):] if k.startswith('text.') and k.split('.')[1] in _TEXT_PREFIXES else k): v
              for k, v in sd.items()}
    ls = getattr(clip, 'logit_scale', None)
    if 'logit_scale' in sd and ls is not None and sd['logit_scale'].shape != ls.shape:
        sd['logit_scale'] = sd['logit_scale'].reshape(ls.shape)
    return sd


# timm Eva key pieces -> EVA-CLIP's (the inverse of timm's checkpoint_filter_fn for EVA02-CLIP towers)
_TIMM_TO_EVA_CLIP = (('attn.q_proj.bias', 'attn.q_bias'), ('attn.v_proj.bias', 'attn.v_bias'),
                     ('attn.norm.', 'attn.inner_attn_ln.'), ('mlp.fc1_g.', 'mlp.w1.'),
                     ('mlp.fc1_x.', 'mlp.w2.'), ('mlp.norm.', 'mlp.ffn_ln.'), ('mlp.fc2.', 'mlp.w3.'))


def to_eva_clip(sd: StateDict) -> StateDict:
    """open_clip keys of an EVA02 model -> the EVA-CLIP / CLIPSelf layout (``visual.blocks.N.attn.q_bias``,
    ``mlp.w1``, ``visual.head``, ``text.*``), for use in the original EVA-CLIP / CLIPSelf / F-ViT code."""
    if not any(k.startswith('visual.trunk.') for k in sd):
        raise CheckpointError('to_eva_clip needs the state dict of an EVA02 (timm-tower) open_clip model')
    out = {}
    for k, v in sd.items():
        if k.startswith('visual.trunk.'):
            k = 'visual.' + k[len('visual.trunk.'):]
            for a, b in _TIMM_TO_EVA_CLIP:
                k = k.replace(a, b)
        out[k] = v
    return out


def load_state_dict_into(clip: nn.Module, sd: StateDict, fmt: str, path: str) -> LoadReport:
    """Load converted weights; refuse loads that leave image-tower weights uninitialised.

    Raises:
        CheckpointError: shape mismatches (a checkpoint of another architecture) or missing image-tower
        keys; both list the offending keys.
    """
    sd = to_open_clip(sd, fmt, clip)
    own = clip.state_dict()
    mismatched = [f'{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}'
                  for k, v in sd.items() if k in own and own[k].shape != v.shape]
    if mismatched:
        raise CheckpointError(f'{path} does not fit this architecture ({len(mismatched)} shape mismatches, '
                              f'e.g. {"; ".join(mismatched[:3])}): is it a checkpoint of another model?')
    result = clip.load_state_dict(sd, strict=False)
    ignored = lambda k: any(s in k for s in _IGNORED_SUBSTRINGS)  # noqa: E731
    report = LoadReport(path=path, format=fmt,
                        missing=[k for k in result.missing_keys if not ignored(k)],
                        unexpected=[k for k in result.unexpected_keys if not ignored(k)])
    trained_options = [k for k in report.unexpected if k.startswith(STATE_PREFIX)]
    if trained_options:
        raise CheckpointError(f'{path} holds weights of tower options ({", ".join(trained_options[:4])}) this '
                              'model was built without: pass the residual_attention / conv_branch options it was '
                              'trained with')
    # the tower options' weights are absent from plain CLIP files: they keep their (identity) initial values
    missing_visual = [k for k in report.missing if k.startswith('visual.') and not k.startswith(STATE_PREFIX)]
    if missing_visual:
        raise CheckpointError(f'{path} leaves {len(missing_visual)} image-tower weights uninitialised: '
                              f'{", ".join(missing_visual[:10])}' + (' ...' if len(missing_visual) > 10 else ''))
    if report.missing or report.unexpected:
        logger.warning(str(report))
    else:
        logger.info(str(report))
    return report


def save_safetensors(clip, path: str, *, model_name: str, extra: Optional[Dict] = None) -> str:
    """Write CLIP weights (an open_clip module, or its state dict) as safetensors, atomically
    (tmp file + rename). The metadata records ``format='clipself'`` and ``model_name`` so
    :func:`build_clip` can check it."""
    from safetensors.torch import save_file
    state = clip.state_dict() if isinstance(clip, nn.Module) else clip
    sd = {k: v.detach().contiguous().cpu() for k, v in state.items()
          if not any(s in k for s in _IGNORED_SUBSTRINGS)}
    meta = {'format': 'clipself', 'model_name': model_name}
    if extra:
        meta['extra'] = json.dumps(extra)
    with atomic_path(path) as tmp:
        save_file(sd, tmp, metadata=meta)
    return path
