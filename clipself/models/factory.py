"""``build_clip``: an open_clip architecture by name + weights from a local file, as a ``DenseCLIP``."""
import contextlib
import difflib
import json
import logging
import os
from typing import Optional, Union

import open_clip
import torch

from .tiny import register_model_configs
from .checkpoint import CheckpointError, load_state_dict_into, read_checkpoint
from .dense_clip import DenseCLIP
from .dense_mode import DenseMode
from .fake_quant import apply_quantization
from .siglip import SIGLIP_MEAN, SIGLIP_STD, is_siglip_config
from .tokenizer import build_tokenizer
from .towers import make_tower
from .variants import attach_variants

logger = logging.getLogger(__name__)

# where the README tells users to put the public checkpoints
KNOWN_FILES = {
    'EVA02-B-16': 'checkpoints/EVA02_CLIP_B_psz16_s8B.pt',
    'EVA02-L-14-336': 'checkpoints/EVA02_CLIP_L_336_psz14_s6B.pt',
    'ViT-B-16': 'checkpoints/ViT-B-16.pt',
    'ViT-L-14-336': 'checkpoints/ViT-L-14-336px.pt',
    # the files of the Hugging Face repositories timm/<name> (weights and tokenizer in one folder)
    **{name: f'checkpoints/{name}/open_clip_model.safetensors'
       for name in ('ViT-B-16-SigLIP2', 'ViT-B-16-SigLIP2-384', 'ViT-B-16-SigLIP2-512', 'ViT-B-16-SigLIP')},
}


@contextlib.contextmanager
def _quiet_open_clip():
    """open_clip warns 'No pretrained weights loaded' on the root logger; we load weights ourselves."""
    def drop(record):
        return 'pretrained weights loaded' not in record.getMessage()
    root = logging.getLogger()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def _check_name(model_name: str) -> None:
    names = open_clip.list_models()
    if model_name not in names:
        close = difflib.get_close_matches(model_name, names, n=5, cutoff=0.5)
        hint = f' Did you mean: {", ".join(close)}?' if close else ''
        raise ValueError(f'unknown model name {model_name!r}: not an open_clip or clipself architecture.'
                         f'{hint} (open_clip.list_models() lists them all)')


def _missing_file_message(model_name: str, pretrained: str) -> str:
    where = KNOWN_FILES.get(model_name.replace('-quickgelu', ''))
    msg = f'checkpoint {pretrained!r} for {model_name} not found.'
    if not os.path.splitext(pretrained)[1] and os.sep not in pretrained:
        msg += (f' {pretrained!r} looks like an open_clip pretrained tag: clipself never downloads weights;'
                ' download the file yourself and pass its path.')
    if where:
        msg += f' The usual place for this model is {where} (see checkpoints/README.md).'
    return msg


def _dense_mode(requested, extra: dict, path: Optional[str]) -> DenseMode:
    """The dense mode to build: the requested one, checked against the checkpoint's record (exports of a decoupled
    distillation record theirs in the metadata's ``extra``), or the record."""
    recorded = extra.get('dense_mode')
    if recorded is not None:
        recorded = DenseMode.parse(recorded, where=f'{path}: recorded dense_mode')
    if requested is None:
        if recorded is not None and recorded.decoupled:
            logger.info('%s was distilled with dense_mode %s: the dense path uses it', path, recorded)
        return recorded or DenseMode()
    mode = DenseMode.parse(requested)
    if recorded is not None and mode != recorded:
        raise CheckpointError(f'{path} was distilled with dense_mode {recorded} ({recorded.to_dict()}), but '
                              f'dense_mode {mode} was requested: drop dense_mode from the config (the checkpoint\'s '
                              'mode is then used) or load a checkpoint distilled with it')
    return mode


def build_clip(model_name: str, pretrained: Optional[Union[str, os.PathLike]] = None, *,
               device: Union[str, torch.device] = 'cpu', quick_gelu: Optional[bool] = None,
               window_attention: Optional[dict] = None, residual_attention: Optional[dict] = None,
               conv_branch: Optional[dict] = None, dense_mode=None,
               tokenizer: Optional[Union[str, os.PathLike]] = None) -> DenseCLIP:
    """Build a CLIP with dense features.

    Args:
        model_name: an open_clip architecture (``'EVA02-B-16'``, ``'EVA02-L-14-336'``, ``'ViT-B-16'``,
            ``'ViT-L-14-336'``, ``'ViT-B-16-quickgelu'``, ``'ViT-B-16-SigLIP2'``, ...) or a clipself tiny one
            (``'ViT-Tiny-8'``, ``'EVA02-Tiny-8'``, ``'SigLIP-Tiny-8'``).
        pretrained: path of a local checkpoint in any supported format (see
            :mod:`clipself.models.checkpoint`); None leaves the weights randomly initialised.
        quick_gelu: force QuickGELU on/off; by default OpenAI checkpoints switch it on (their weights
            were trained with it), everything else uses the config's activation.
        window_attention: ``dict(window_size=16, blocks=[0, 1, 3, 4, 6, 7, 9, 10])`` for local window
            attention in those blocks (see ``DenseCLIP.set_window_attention``); None: global attention.
        residual_attention: ``dict(alpha=0.5)``: ReViT residual attention (scores mixed across blocks with one
            learnable ``alpha``; 1.0 is the unchanged CLIP), see :mod:`clipself.models.residual_attention`.
        conv_branch: ``dict(blocks=[0, 1, 2], hidden_ratio=1)``: ViTAEv2 depth-wise convolution branches
            beside the attention of those blocks, zero-initialised (:mod:`clipself.models.conv_branch`).
            Both options add weights under ``visual.clipself_variants.``: a checkpoint without them loads
            (they keep their initial values), a checkpoint with them needs the same options.
        tokenizer: a local folder with the Hugging Face tokenizer of models that name one (SigLIP, SigLIP2); by
            default the checkpoint's folder when it holds tokenizer files. Without one such a model builds and
            encodes images; ``tokenize`` then raises an error saying where to put the files
            (:mod:`clipself.models.tokenizer`). Nothing is downloaded.
    Returns:
        A :class:`DenseCLIP` in eval mode; ``model.load_report`` says what was loaded.
    Raises:
        ValueError: unknown model name. FileNotFoundError: missing checkpoint (says where to put it).
        CheckpointError: unreadable checkpoint, another architecture's, or one that leaves image-tower
        weights uninitialised.
    """
    register_model_configs()  # the tiny architectures (idempotent)
    if model_name.endswith('-quickgelu') and model_name not in open_clip.list_models():
        model_name, quick_gelu = model_name[:-len('-quickgelu')], True  # e.g. 'ViT-Tiny-8-quickgelu'
    _check_name(model_name)
    sd = fmt = None
    path = None
    meta = {}
    if pretrained is not None:
        path = os.fspath(pretrained)
        if not os.path.isfile(path):
            raise FileNotFoundError(_missing_file_message(model_name, path))
        sd, fmt, meta = read_checkpoint(path)
        saved = meta.get('model_name')
        if saved and saved.replace('-quickgelu', '') != model_name.replace('-quickgelu', ''):
            raise CheckpointError(f'{path} was exported from {saved!r}, not {model_name!r}')
        if saved and saved.endswith('-quickgelu') and quick_gelu is None:
            quick_gelu = True
    if quick_gelu is None:
        quick_gelu = fmt in ('openai', 'openai_jit') and not model_name.endswith('-quickgelu')
        if quick_gelu:
            logger.info('%s holds OpenAI weights: using QuickGELU (as %s-quickgelu)', path, model_name)
    text_tokenizer = build_tokenizer(model_name, tokenizer, checkpoint=path)  # bad folders fail before the build
    # SigLIP towers were trained on pixels normalised with mean = std = 0.5 (open_clip records it with its
    # pretrained tags only, and no tag is used here)
    siglip = is_siglip_config(open_clip.get_model_config(model_name))
    preprocess = dict(mean=SIGLIP_MEAN, std=SIGLIP_STD) if siglip else None
    with _quiet_open_clip():
        clip = open_clip.create_model(model_name, pretrained=None, device='cpu',
                                      force_quick_gelu=bool(quick_gelu), force_preprocess_cfg=preprocess)
    if residual_attention is not None or conv_branch is not None:
        tower = make_tower(clip.visual)
        attach_variants(clip.visual, num_blocks=tower.num_blocks, width=tower.width,
                        residual_attention=residual_attention, conv_branch=conv_branch)
    if sd is None:
        logger.info('%s: randomly initialised (no checkpoint given)', model_name)
    name = model_name + ('-quickgelu' if quick_gelu and not model_name.endswith('-quickgelu') else '')
    report = load_state_dict_into(clip, sd, fmt, path) if sd is not None else None
    extra = json.loads(meta.get('extra') or '{}')
    quantization = extra.get('quantization')
    if quantization:  # a tools/quantize.py file: its weights are quantised; the activation quantisers come back
        apply_quantization(clip.visual, quantization)
        logger.info('%s: quantised image tower (%d linears)', path, len(quantization['layers']))
    model = DenseCLIP(clip=clip, model_name=name, tokenizer=text_tokenizer)
    model.load_report = report
    model.set_dense_mode(_dense_mode(dense_mode, extra, path))
    if window_attention:
        model.set_window_attention(**window_attention)
    return model.to(device).eval()
