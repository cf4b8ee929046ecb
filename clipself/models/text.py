"""Class-name text embeddings: a prompt-template ensemble through the CLIP text tower, and their files.

    names = load_vocabulary('coco').display_names
    emb = build_text_embeddings(model, names)        # [80, D], L2-normalised, ViLD's 63-prompt ensemble
    save_text_embeddings('coco_vild.pt', load_vocabulary('coco').names, emb, model_name=model.model_name)

File format (``torch.save``; read with ``weights_only=True``)::

    {'class_names': [N str], 'embeddings': [N, D] float32, 'model_name': str, 'templates': str}
"""
import json
import os
from typing import Callable, Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from ..fileio import atomic_write
from .device import module_device

# ViLD's prompt ensemble (Gu et al., ICLR 2022, the ViLD demo), the one CLIPSelf/F-ViT use for their class
# embeddings. '{article}' becomes 'a'/'an'; with the 'vild' set every prompt starting with 'a'/'the' is
# prefixed with 'This is ' (ViLD's `this_is` flag, on in ViLD and CLIPSelf), e.g. 'This is a photo of a cat.'
VILD_TEMPLATES = (
    'There is {article} {} in the scene.',
    'There is the {} in the scene.',
    'a photo of {article} {} in the scene.',
    'a photo of the {} in the scene.',
    'a photo of one {} in the scene.',
    'itap of {article} {}.',
    'itap of my {}.',  # itap: I took a picture of
    'itap of the {}.',
    'a photo of {article} {}.',
    'a photo of my {}.',
    'a photo of the {}.',
    'a photo of one {}.',
    'a photo of many {}.',
    'a good photo of {article} {}.',
    'a good photo of the {}.',
    'a bad photo of {article} {}.',
    'a bad photo of the {}.',
    'a photo of a nice {}.',
    'a photo of the nice {}.',
    'a photo of a cool {}.',
    'a photo of the cool {}.',
    'a photo of a weird {}.',
    'a photo of the weird {}.',
    'a photo of a small {}.',
    'a photo of the small {}.',
    'a photo of a large {}.',
    'a photo of the large {}.',
    'a photo of a clean {}.',
    'a photo of the clean {}.',
    'a photo of a dirty {}.',
    'a photo of the dirty {}.',
    'a bright photo of {article} {}.',
    'a bright photo of the {}.',
    'a dark photo of {article} {}.',
    'a dark photo of the {}.',
    'a photo of a hard to see {}.',
    'a photo of the hard to see {}.',
    'a low resolution photo of {article} {}.',
    'a low resolution photo of the {}.',
    'a cropped photo of {article} {}.',
    'a cropped photo of the {}.',
    'a close-up photo of {article} {}.',
    'a close-up photo of the {}.',
    'a jpeg corrupted photo of {article} {}.',
    'a jpeg corrupted photo of the {}.',
    'a blurry photo of {article} {}.',
    'a blurry photo of the {}.',
    'a pixelated photo of {article} {}.',
    'a pixelated photo of the {}.',
    'a black and white photo of the {}.',
    'a black and white photo of {article} {}.',
    'a plastic {}.',
    'the plastic {}.',
    'a toy {}.',
    'the toy {}.',
    'a plushie {}.',
    'the plushie {}.',
    'a cartoon {}.',
    'the cartoon {}.',
    'an embroidered {}.',
    'the embroidered {}.',
    'a painting of the {}.',
    'a painting of a {}.',
)

# The 80 ImageNet prompts of the CLIP paper (Radford et al. 2021), verbatim ('a origami {}.' included): the
# ensemble of the training-free segmentation literature (MaskCLIP, SCLIP, ClearCLIP, NACLIP).
IMAGENET_TEMPLATES = (
    'a bad photo of a {}.',
    'a photo of many {}.',
    'a sculpture of a {}.',
    'a photo of the hard to see {}.',
    'a low resolution photo of the {}.',
    'a rendering of a {}.',
    'graffiti of a {}.',
    'a bad photo of the {}.',
    'a cropped photo of the {}.',
    'a tattoo of a {}.',
    'the embroidered {}.',
    'a photo of a hard to see {}.',
    'a bright photo of a {}.',
    'a photo of a clean {}.',
    'a photo of a dirty {}.',
    'a dark photo of the {}.',
    'a drawing of a {}.',
    'a photo of my {}.',
    'the plastic {}.',
    'a photo of the cool {}.',
    'a close-up photo of a {}.',
    'a black and white photo of the {}.',
    'a painting of the {}.',
    'a painting of a {}.',
    'a pixelated photo of the {}.',
    'a sculpture of the {}.',
    'a bright photo of the {}.',
    'a cropped photo of a {}.',
    'a plastic {}.',
    'a photo of the dirty {}.',
    'a jpeg corrupted photo of a {}.',
    'a blurry photo of the {}.',
    'a photo of the {}.',
    'a good photo of the {}.',
    'a rendering of the {}.',
    'a {} in a video game.',
    'a photo of one {}.',
    'a doodle of a {}.',
    'a close-up photo of the {}.',
    'a photo of a {}.',
    'the origami {}.',
    'the {} in a video game.',
    'a sketch of a {}.',
    'a doodle of the {}.',
    'a origami {}.',
    'a low resolution photo of a {}.',
    'the toy {}.',
    'a rendition of the {}.',
    'a photo of the clean {}.',
    'a photo of a large {}.',
    'a rendition of a {}.',
    'a photo of a nice {}.',
    'a photo of a weird {}.',
    'a blurry photo of a {}.',
    'a cartoon {}.',
    'art of a {}.',
    'a sketch of the {}.',
    'a embroidered {}.',
    'a pixelated photo of a {}.',
    'itap of the {}.',
    'a jpeg corrupted photo of the {}.',
    'a good photo of a {}.',
    'a plushie {}.',
    'a photo of the nice {}.',
    'a photo of the small {}.',
    'a photo of the weird {}.',
    'the cartoon {}.',
    'art of the {}.',
    'a drawing of the {}.',
    'a photo of the large {}.',
    'a black and white photo of a {}.',
    'the plushie {}.',
    'a dark photo of a {}.',
    'itap of a {}.',
    'graffiti of the {}.',
    'a toy {}.',
    'itap of my {}.',
    'a photo of a cool {}.',
    'a photo of a small {}.',
    'a tattoo of the {}.',
)

# CLIP's plain prompt 'a photo of a {}.', with the article fixed ('a photo of an apple.')
SINGLE_TEMPLATES = ('a photo of {article} {}.',)

TEMPLATE_SETS = {'vild': VILD_TEMPLATES, 'imagenet': IMAGENET_TEMPLATES, 'single': SINGLE_TEMPLATES}
THIS_IS_SETS = ('vild',)  # sets whose prompts get ViLD's 'This is ' prefix

Templates = Union[str, Sequence[str]]


def article(name: str) -> str:
    """``'an'`` before a vowel (``'an apple'``, ``'an umbrella'``), else ``'a'``."""
    return 'an' if name[:1].lower() in ('a', 'e', 'i', 'o', 'u') else 'a'


def _template_list(templates: Templates) -> List[str]:
    if isinstance(templates, str):
        if templates not in TEMPLATE_SETS:
            raise ValueError(f'unknown template set {templates!r}: use one of {", ".join(TEMPLATE_SETS)} '
                             'or a list of format strings with one {} (and optionally {article})')
        return list(TEMPLATE_SETS[templates])
    out = list(templates)
    if not out or any(not isinstance(t, str) or '{}' not in t for t in out):
        raise ValueError('templates must be a non-empty list of format strings, each with one {}')
    return out


def templates_tag(templates: Templates) -> str:
    """The ``'templates'`` string stored in an embeddings file: the set name, or the list as json."""
    return templates if isinstance(templates, str) else json.dumps(list(templates))


def make_prompts(class_name: str, templates: Templates = 'vild') -> List[str]:
    """The prompts of one class, in template order: ``'cat' -> ['There is a cat in the scene.', ...]``.

    ``class_name`` is used verbatim (pass a display name, see
    :func:`clipself.models.vocabulary.display_name`). A template set name in ``THIS_IS_SETS`` adds ViLD's
    ``'This is '`` prefix to the prompts that start with ``'a'`` or ``'the'``.
    """
    name = class_name.strip()
    prompts = [t.format(name, article=article(name)) for t in _template_list(templates)]
    if isinstance(templates, str) and templates in THIS_IS_SETS:
        prompts = ['This is ' + p if p.startswith('a') or p.startswith('the') else p for p in prompts]
    return prompts


def build_text_embeddings(model, class_names: Sequence[str], *, templates: Templates = 'vild',
                          batch_size: int = 256, device: Optional[Union[str, torch.device]] = None,
                          progress: Optional[Callable[[int, int], None]] = None) -> torch.Tensor:
    """One embedding per class from a prompt-template ensemble.

    Per class: encode every prompt (:func:`make_prompts`), L2-normalise each, average over the templates,
    L2-normalise the mean. Prompts of all classes are batched together; runs under ``torch.no_grad``.

    Args:
        model: a :class:`~clipself.models.DenseCLIP` (anything with ``tokenize(list_of_str) -> [n, L]`` and
            ``encode_text(tokens, normalize=True) -> [n, D]``).
        class_names: ``N`` names put into the templates verbatim (use ``Vocabulary.display_names``).
        templates: ``'vild'`` (63 prompts), ``'imagenet'`` (CLIP's 80), ``'single'`` (``'a photo of a {}.'``) or a list of format
            strings with ``{}`` (and optionally ``{article}``).
        batch_size: prompts per text-tower forward.
        device: where to run; the model is moved there (``model.to(device)``). Default: the model's.
        progress: called as ``progress(prompts_done, prompts_total)`` after each batch.
    Returns:
        ``[N, D]`` float32 on the model's device, unit L2 norm per row.
    """
    names = list(class_names)
    if not names:
        raise ValueError('build_text_embeddings: no class names')
    bad = [x for x in names if not isinstance(x, str) or not x.strip()]
    if bad:
        raise ValueError(f'build_text_embeddings: class names must be non-empty strings, got {bad[:3]!r}')
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    if device is not None:
        model.to(device)
    dev = module_device(model)
    prompts, owner = [], []
    for i, name in enumerate(names):
        p = make_prompts(name, templates)
        prompts += p
        owner += [i] * len(p)
    owner_t = torch.tensor(owner, device=dev)
    sums = None
    with torch.no_grad():
        for start in range(0, len(prompts), batch_size):
            tokens = model.tokenize(prompts[start:start + batch_size]).to(dev)
            x = model.encode_text(tokens, normalize=False).float()  # shape: [b, D]
            x = F.normalize(x, dim=-1)
            if sums is None:
                sums = torch.zeros(len(names), x.shape[1], device=dev)
            sums.index_add_(0, owner_t[start:start + len(x)], x)
            if progress is not None:
                progress(start + len(x), len(prompts))
    # the mean over templates differs from the sum by a positive factor: the same after normalising
    return F.normalize(sums, dim=-1)  # shape: [N, D]


def save_text_embeddings(path: Union[str, os.PathLike], class_names: Sequence[str], embeddings: torch.Tensor,
                         *, model_name: str, templates: Templates = 'vild') -> None:
    """Write ``{'class_names', 'embeddings' [N, D] float32 (CPU), 'model_name', 'templates'}`` to ``path``
    atomically (a temporary file in the same folder, then ``os.replace``); creates the folder."""
    names = [str(x) for x in class_names]
    if not isinstance(embeddings, torch.Tensor) or embeddings.dim() != 2:
        raise ValueError(f'embeddings must be an [N, D] tensor, got '
                         f'{tuple(embeddings.shape) if isinstance(embeddings, torch.Tensor) else type(embeddings)}')
    if embeddings.shape[0] != len(names):
        raise ValueError(f'{len(names)} class names but {embeddings.shape[0]} embeddings')
    if not embeddings.is_floating_point():
        raise ValueError(f'embeddings must be floating point, got {embeddings.dtype}')
    payload = {'class_names': names, 'embeddings': embeddings.detach().float().cpu().contiguous(),
               'model_name': str(model_name), 'templates': templates_tag(templates)}
    with atomic_write(path, 'wb') as f:
        torch.save(payload, f)


def load_text_embeddings(path: Union[str, os.PathLike]) -> Dict:
    """Read a file written by :func:`save_text_embeddings` (``torch.load(weights_only=True)``, on CPU).

    Returns:
        ``{'class_names': [N str], 'embeddings': [N, D] float tensor, 'model_name': str, 'templates': str}``.
    Raises:
        FileNotFoundError; ValueError (naming the file) when a key is missing, ``embeddings`` is not a 2-D
        float tensor, or ``len(class_names) != N``.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'text-embeddings file {path} not found '
                                '(make one with tools/gen_text_embeddings.py)')
    try:
        data = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # pickle/zip errors, or objects weights_only refuses
        raise ValueError(f'{path}: not a readable text-embeddings file ({type(e).__name__}: {e})') from e
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a dict, got {type(data).__name__}')
    missing = [k for k in ('class_names', 'embeddings', 'model_name', 'templates') if k not in data]
    if missing:
        raise ValueError(f'{path}: not a text-embeddings file, missing keys {missing} '
                         f'(has {sorted(map(str, data))[:8]})')
    names, emb = data['class_names'], data['embeddings']
    if not isinstance(names, (list, tuple)) or not all(isinstance(x, str) for x in names):
        raise ValueError(f'{path}: class_names must be a list of strings')
    if not isinstance(emb, torch.Tensor) or emb.dim() != 2 or not emb.is_floating_point():
        shape = tuple(emb.shape) if isinstance(emb, torch.Tensor) else type(emb).__name__
        raise ValueError(f'{path}: embeddings must be an [N, D] float tensor, got {shape}')
    if emb.shape[0] != len(names):
        raise ValueError(f'{path}: {len(names)} class names but {emb.shape[0]} embeddings (rows)')
    return {'class_names': list(names), 'embeddings': emb, 'model_name': str(data['model_name']),
            'templates': str(data['templates'])}
