"""The text tokenizer of a CLIP, never downloaded.

open_clip's own BPE tokenizer ships with open_clip. Models whose open_clip config names a Hugging Face tokenizer
(``text_cfg.hf_tokenizer_name``: SigLIP ``timm/ViT-B-16-SigLIP``, SigLIP2 ``timm/ViT-B-16-SigLIP2`` ...) would
have ``open_clip.get_tokenizer`` fetch it from the hub; here such a tokenizer is read from a local folder only
(the files of that hub repository: ``tokenizer.json`` / ``tokenizer_config.json`` / ``special_tokens_map.json``,
or a SentencePiece ``*.model``), loaded at its first use with ``local_files_only=True`` through open_clip's
``HFTokenizer`` (which needs the ``transformers`` package). Without a folder the model builds and runs all image
paths; tokenizing then raises an error that says where to put the files.
"""
import os
from typing import Optional, Sequence, Union

import open_clip

# files of which at least one marks a folder as a Hugging Face tokenizer
TOKENIZER_FILES = ('tokenizer.json', 'tokenizer_config.json', 'tokenizer.model', 'spiece.model')


def hf_tokenizer_name(model_name: str) -> Optional[str]:
    """The hub tokenizer an open_clip model config names (``'timm/ViT-B-16-SigLIP2'``), or None."""
    cfg = open_clip.get_model_config(model_name) or {}
    return cfg.get('text_cfg', {}).get('hf_tokenizer_name') or None


def is_tokenizer_folder(folder: Union[str, os.PathLike]) -> bool:
    return os.path.isdir(folder) and any(os.path.isfile(os.path.join(folder, f)) for f in TOKENIZER_FILES)


def _where(model_name: str, hub_name: str) -> str:
    return (f'{model_name} tokenizes text with the Hugging Face tokenizer {hub_name!r}, which clipself never '
            f'downloads: put the tokenizer files of the Hugging Face repository {hub_name} ({", ".join(TOKENIZER_FILES[:2])}'
            f', special_tokens_map.json ...) into a folder, e.g. checkpoints/{model_name}/ beside its '
            f'open_clip_model.safetensors, and pass it as build_clip(..., tokenizer=FOLDER) (configs: '
            'clip=dict(tokenizer=FOLDER)); reading it needs `pip install transformers sentencepiece`. Text embeddings '
            'computed elsewhere (tools/gen_text_embeddings.py files) need no tokenizer.')


class MissingTokenizer:
    """Stands for the tokenizer of a model built without its tokenizer folder: calling it raises
    ``FileNotFoundError`` saying where to put the files."""

    def __init__(self, model_name: str, hub_name: str):
        self.model_name, self.hub_name = model_name, hub_name

    def __call__(self, texts, context_length=None):
        raise FileNotFoundError(f'no tokenizer folder given. {_where(self.model_name, self.hub_name)}')

    def __repr__(self) -> str:
        return f'MissingTokenizer({self.model_name!r}, {self.hub_name!r})'


class LocalHFTokenizer:
    """open_clip's ``HFTokenizer`` on a local folder, created at the first call, never from the hub.

    Args:
        folder: the tokenizer files.
        context_length: token ids per text (the text tower's).
        kwargs: the model config's ``tokenizer_kwargs`` (e.g. ``clean='canonicalize'``) and ``tokenizer_mode``.
    Call: ``texts (list of N str) -> [N, context_length]`` int64 ids.
    """

    def __init__(self, folder: Union[str, os.PathLike], *, context_length: int, model_name: str = '', **kwargs):
        self.folder, self.context_length, self.model_name = os.fspath(folder), int(context_length), model_name
        self.kwargs = kwargs
        self._tokenizer = None

    def _load(self):
        if self._tokenizer is None:
            try:
                import transformers  # noqa: F401  (open_clip's HFTokenizer imports it inside)
            except ImportError as e:
                raise ImportError(f'the tokenizer in {self.folder} ({self.model_name}) is a Hugging Face tokenizer: '
                                  'install `transformers` (and `sentencepiece`) to read it') from e
            from open_clip.tokenizer import HFTokenizer
            self._tokenizer = HFTokenizer(self.folder, context_length=self.context_length, local_files_only=True,
                                          **self.kwargs)
        return self._tokenizer

    def __call__(self, texts: Union[str, Sequence[str]], context_length: Optional[int] = None):
        return self._load()(texts, context_length)

    def __getstate__(self):  # copies and pickles (spawned workers) reload from the folder
        return dict(self.__dict__, _tokenizer=None)

    def __repr__(self) -> str:
        return f'LocalHFTokenizer({self.folder!r}, context_length={self.context_length})'


def build_tokenizer(model_name: str, folder: Optional[Union[str, os.PathLike]] = None,
                    checkpoint: Optional[str] = None):
    """The tokenizer of ``model_name``, never downloaded.

    - models with open_clip's bundled BPE: ``open_clip.get_tokenizer`` (``folder`` must be None);
    - models naming a hub tokenizer: a :class:`LocalHFTokenizer` on ``folder``, or on the checkpoint's own folder
      when it holds tokenizer files (a downloaded hub repository); otherwise a :class:`MissingTokenizer`;
    - other SigLIP-named models (clipself's tiny SigLIP-style towers): open_clip's BPE ``SimpleTokenizer``
      (``open_clip.get_tokenizer`` would fetch a SigLIP tokenizer for any name containing 'siglip').
    Raises:
        FileNotFoundError: ``folder`` given but holding no tokenizer files (says where they come from).
        ValueError: ``folder`` given for a model whose tokenizer ships with open_clip.
    """
    hub = hf_tokenizer_name(model_name)
    if hub is None:
        if folder is not None:
            raise ValueError(f'{model_name} uses open_clip\'s bundled tokenizer: tokenizer={os.fspath(folder)!r} '
                             'is not used (leave it None)')
        if 'siglip' not in model_name.lower():
            return open_clip.get_tokenizer(model_name)
        text_cfg = (open_clip.get_model_config(model_name) or {}).get('text_cfg', {})
        return open_clip.SimpleTokenizer(context_length=text_cfg.get('context_length', 77),
                                         **text_cfg.get('tokenizer_kwargs', {}))
    if folder is None and checkpoint is not None and is_tokenizer_folder(os.path.dirname(os.path.abspath(checkpoint))):
        folder = os.path.dirname(os.path.abspath(checkpoint))
    if folder is None:
        return MissingTokenizer(model_name, hub)
    if not is_tokenizer_folder(folder):
        raise FileNotFoundError(f'tokenizer folder {os.fspath(folder)!r} not found or without tokenizer files. '
                                f'{_where(model_name, hub)}')
    text_cfg = open_clip.get_model_config(model_name)['text_cfg']
    kwargs = dict(text_cfg.get('tokenizer_kwargs', {}))
    if text_cfg.get('tokenizer_mode'):
        kwargs['tokenizer_mode'] = text_cfg['tokenizer_mode']
    return LocalHFTokenizer(folder, context_length=text_cfg.get('context_length', 77), model_name=model_name, **kwargs)
