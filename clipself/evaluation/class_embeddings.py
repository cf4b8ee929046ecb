"""Class embeddings for zero-shot classification: from a file, or from the text tower, cached on disk.

The cache file is named after the model and a fingerprint of (text-tower weights, class names, templates), so
a different checkpoint, class list or prompt set never reuses a stale file; files are written atomically
(``save_text_embeddings``), so concurrent ranks may race harmlessly.
"""
import hashlib
import logging
import os
import re
from typing import Optional, Sequence, Union

import torch

from ..models.text import Templates, build_text_embeddings, load_text_embeddings, save_text_embeddings, templates_tag
from ..models.vocabulary import Vocabulary, check_same_names

logger = logging.getLogger(__name__)


def text_tower_fingerprint(model) -> str:
    """sha256 over the names and bytes of the text-side parameters of ``model.clip`` (everything outside
    ``visual.``, except ``logit_scale`` / ``logit_bias``)."""
    h = hashlib.sha256(str(getattr(model, 'model_name', '')).encode())
    clip = getattr(model, 'clip', model)
    for name, p in sorted(clip.named_parameters(), key=lambda kv: kv[0]):
        if name.startswith('visual.') or name.startswith('logit_'):
            continue
        h.update(name.encode())
        h.update(str(p.dtype).encode())
        h.update(p.detach().reshape(-1).contiguous().cpu().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


PROMPT_NAMES = ('reference', 'display')


def reference_prompt_name(name: str) -> str:
    """A class name as the reference's text-embedding script writes it into the prompts: ``'_' -> ' '``,
    ``'/' -> ' or '``, lower case, trailing dots removed; nothing else (``'wall-other-merged'`` stays)."""
    return name.replace('_', ' ').replace('/', ' or ').lower().rstrip('.')


def prompt_names(class_names: Sequence[str], style: str = 'display') -> list:
    """The names put into the prompts. ``style='reference'``: :func:`reference_prompt_name`; ``'display'``:
    ``Vocabulary.display_names`` (``'wall-other-merged' -> 'wall'``, ``'door-stuff' -> 'door'``)."""
    names = list(class_names)
    if style == 'reference':
        return [reference_prompt_name(n) for n in names]
    if style != 'display':
        raise ValueError(f'prompt names must be one of {PROMPT_NAMES}, got {style!r}')
    return Vocabulary(name='classes', names=names, ids=list(range(len(names)))).display_names


def check_names(found: Sequence[str], expected: Sequence[str], source: str) -> None:
    """Raise ``ValueError`` naming the first difference between two class lists."""
    check_same_names(found, expected, source=source, where='the dataset',
                     rule="class embeddings must follow the dataset's sorted category ids")


def cached_text_embeddings(model, class_names: Sequence[str], *, templates: Templates = 'vild',
                           cache_dir: Optional[str] = 'work_dirs/text_cache',
                           prompt_style: str = 'reference') -> torch.Tensor:
    """``[C, D]`` L2-normalised prompt-ensemble embeddings of ``class_names`` (canonical names; the prompts use
    ``prompt_names(class_names, prompt_style)``), read from ``cache_dir`` when an entry for this text tower
    exists, else computed and written there (``cache_dir=None``: never cached). On the model's device."""
    names = list(class_names)
    prompts = prompt_names(names, prompt_style)
    device = next(model.parameters()).device
    path = None
    if cache_dir:
        key = hashlib.sha256('\n'.join([text_tower_fingerprint(model), templates_tag(templates), *names, *prompts])
                             .encode()).hexdigest()[:16]
        model_tag = re.sub(r'[^A-Za-z0-9_.-]+', '_', str(getattr(model, 'model_name', 'clip')))
        path = os.path.join(cache_dir, f'{model_tag}_{len(names)}cls_{key}.pt')
        if os.path.isfile(path):
            data = load_text_embeddings(path)
            check_names(data['class_names'], names, path)
            logger.info('class embeddings from the cache %s', path)
            return data['embeddings'].to(device)
    emb = build_text_embeddings(model, prompts, templates=templates)
    if path:
        save_text_embeddings(path, names, emb, model_name=str(getattr(model, 'model_name', 'clip')),
                             templates=templates)
        logger.info('class embeddings (%d classes, %s templates) cached in %s', len(names), templates_tag(templates),
                    path)
    return emb


def resolve_class_embeddings(model, class_names: Sequence[str], source: Union[None, str, torch.Tensor], *,
                             templates: Templates = 'vild', cache_dir: Optional[str] = None,
                             prompt_style: str = 'reference') -> torch.Tensor:
    """``[C, D]`` L2-normalised class embeddings on the model's device.

    Args:
        source: None (the text tower + prompt ensemble, cached), the path of a file written by
            ``tools/gen_text_embeddings.py`` (its class names must equal ``class_names``), or an ``[C, D]``
            tensor.
        prompt_style: how class names enter the prompts when ``source`` is None (:func:`prompt_names`).
    """
    names = list(class_names)
    if source is None:
        emb = cached_text_embeddings(model, names, templates=templates, cache_dir=cache_dir,
                                     prompt_style=prompt_style)
    elif isinstance(source, torch.Tensor):
        emb = source
        if emb.dim() != 2 or emb.shape[0] != len(names):
            raise ValueError(f'class_embeddings must be [{len(names)}, D], got {tuple(emb.shape)}')
    else:
        data = load_text_embeddings(os.fspath(source))
        check_names(data['class_names'], names, os.fspath(source))
        emb = data['embeddings']
    dim = getattr(model, 'embed_dim', None)
    if dim is not None and emb.shape[1] != dim:
        raise ValueError(f'class embeddings are {emb.shape[1]}-d but {getattr(model, "model_name", "the model")} '
                         f'embeds in {dim}-d (made with another model?)')
    try:
        device = next(model.parameters()).device
    except (AttributeError, StopIteration):
        device = emb.device
    return torch.nn.functional.normalize(emb.float(), dim=-1).to(device)
