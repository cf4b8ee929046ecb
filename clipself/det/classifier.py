"""F-ViT's open-vocabulary classifier: ``T_det * cos(region embedding, class text embedding)`` plus a background
embedding. Replaces the linear ``fc_cls`` of mmdet's bbox heads (``cls_predictor_cfg``)."""
import logging
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmdet.registry import MODELS

from ..models.text import build_text_embeddings, load_text_embeddings

BACKGROUNDS = ('text', 'zero', 'learned')


def _base_model_name(name: str) -> str:
    return name[:-len('-quickgelu')] if name.endswith('-quickgelu') else name


@MODELS.register_module()
class TextEmbeddingClassifier(nn.Module):
    """Cosine classifier against fixed class text embeddings.

    Args:
        in_features: dimension of the region embedding (the bbox head's last fc); must equal the CLIP
            embedding dimension D of the text embeddings.
        out_features: ``num_classes + 1`` (filled in by mmdet's bbox head); the last output is background.
        embeddings: a text-embeddings file (``clipself.models.text.save_text_embeddings`` format, e.g. from
            ``tools/gen_text_embeddings.py``); its ``class_names`` define the class order. None: the embeddings
            are computed from the detector's own CLIP text tower at build time from ``class_names``
            (tiny/synthetic runs) and saved with the model. ``'random'``: seeded random unit vectors, one per
            class (a stand-in vocabulary for random CLIPs, whose text embeddings of different names are nearly
            parallel), saved with the model.
        class_names: the classes (canonical names). With a file, optional: when given it must equal the
            file's list. Without a file, required.
        prompt_names: names put into the prompts when computing embeddings (default: ``class_names``).
        background: ``'text'`` (the prompt-ensemble embedding of "background", fixed), ``'zero'`` (a zero
            vector: the background logit is always 0) or ``'learned'`` (a parameter initialised from the text
            embedding).
        temperature: initial ``T_det`` (50).
        learn_temperature: ``T_det`` is a parameter (True) or a constant.
        test_temperature: if set, used instead of ``T_det`` in eval mode (transfer evaluation uses 50).
        random_seed: seed of ``embeddings='random'``.
    Forward: ``[N, in_features]`` -> logits ``[N, num_classes + 1]``.

    Embeddings read from a file are not saved in checkpoints (the config's file is the vocabulary), so a
    checkpoint can be evaluated with another vocabulary (transfer) or used with any typed classes (demo).
    """

    def __init__(self, *, in_features: int, out_features: int, embeddings: Optional[str] = None,
                 class_names: Optional[Sequence[str]] = None, prompt_names: Optional[Sequence[str]] = None,
                 background: str = 'text', temperature: float = 50.0, learn_temperature: bool = True,
                 test_temperature: Optional[float] = None, random_seed: int = 0):
        super().__init__()
        if background not in BACKGROUNDS:
            raise ValueError(f'background must be one of {BACKGROUNDS}, got {background!r}')
        self.in_features = in_features
        self.background = background
        self.test_temperature = test_temperature
        self.embeddings_file = embeddings if embeddings != 'random' else None
        self.file_model_name = None
        if embeddings == 'random':
            if class_names is None:
                raise ValueError("embeddings='random' needs class_names")
            self.class_names = [str(x) for x in class_names]
            self._check_shape((len(self.class_names), in_features), out_features, 'class_names')
            gen = torch.Generator().manual_seed(int(random_seed))
            emb = F.normalize(torch.randn(len(self.class_names), in_features, generator=gen), dim=-1)
            self.register_buffer('class_embeddings', emb)  # saved with the model
            self._needs_text = False
        elif embeddings is not None:
            data = load_text_embeddings(embeddings)
            names, emb = data['class_names'], data['embeddings'].float()
            self.file_model_name = data['model_name']
            if class_names is not None and list(class_names) != names:
                diff = [(i, a, b) for i, (a, b) in enumerate(zip(class_names, names)) if a != b][:3]
                raise ValueError(f'text-embedding file {embeddings} lists {len(names)} classes that do not match '
                                 f'the {len(class_names)} configured class_names (first differences: {diff})')
            self._check_shape(emb.shape, out_features, f'text-embedding file {embeddings}')
            self.class_names: List[str] = names
            self.register_buffer('class_embeddings', F.normalize(emb, dim=-1), persistent=False)
            self._needs_text = False
        else:
            if class_names is None:
                raise ValueError('TextEmbeddingClassifier needs an embeddings file or class_names')
            self.class_names = [str(x) for x in class_names]
            self._check_shape((len(self.class_names), in_features), out_features, 'class_names')
            # computed from the CLIP text tower in attach_clip(), saved with the model
            self.register_buffer('class_embeddings', torch.zeros(len(self.class_names), in_features))
            self._needs_text = True
        self.prompt_names = list(prompt_names) if prompt_names is not None else None
        if self.prompt_names is not None and len(self.prompt_names) != len(self.class_names):
            raise ValueError(f'{len(self.prompt_names)} prompt_names for {len(self.class_names)} classes')
        if background in ('text', 'learned'):
            self.register_buffer('background_text', torch.zeros(in_features))
        if background == 'learned':
            self.background_embedding = nn.Parameter(torch.zeros(in_features))
        t = torch.tensor(float(temperature))
        if learn_temperature:
            self.temperature = nn.Parameter(t)
        else:
            self.register_buffer('temperature', t)
        self._attached = False

    def _check_shape(self, shape, out_features, what):
        n, d = shape
        if n + 1 != out_features:
            raise ValueError(f'{what} has {n} classes but the bbox head has num_classes={out_features - 1}: '
                             'set num_classes to the number of classes of the vocabulary')
        if d != self.in_features:
            raise ValueError(f'{what} has {d}-d embeddings but the bbox head classifies {self.in_features}-d '
                             'region embeddings: fc_out_channels must be the CLIP embedding size')

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def attach_clip(self, clip) -> None:
        """Fill what comes from the detector's CLIP text tower (a :class:`~clipself.models.DenseCLIP`): the
        "background" embedding and, without a file, the class embeddings. Checks that an embeddings file was
        made with the same CLIP."""
        if self.file_model_name is not None and \
                _base_model_name(self.file_model_name) != _base_model_name(clip.model_name):
            raise ValueError(f'text-embedding file {self.embeddings_file} was made with {self.file_model_name}, '
                             f'the detector uses {clip.model_name}: region and text embeddings would not share a space')
        if clip.embed_dim != self.in_features:
            raise ValueError(f'{clip.model_name} embeds in {clip.embed_dim}-d, the classifier expects '
                             f'{self.in_features}-d (fc_out_channels)')
        names = []
        if self.background in ('text', 'learned'):
            names.append('background')
        if self._needs_text:
            names += self.prompt_names or self.class_names
        if names:
            dev = self.class_embeddings.device
            emb = build_text_embeddings(clip, names).to(dev)  # shape: [len(names), D]
            if self.background in ('text', 'learned'):
                self.background_text.copy_(emb[0])
                if self.background == 'learned':
                    with torch.no_grad():
                        self.background_embedding.copy_(emb[0])
                emb = emb[1:]
            if self._needs_text:
                self.class_embeddings.copy_(emb)
        self._attached = True

    def set_vocabulary(self, class_names: Sequence[str], embeddings: torch.Tensor) -> None:
        """Classify into another vocabulary (demo, transfer): ``embeddings`` ``[N, D]``, one row per name."""
        names = [str(x) for x in class_names]
        if embeddings.dim() != 2 or embeddings.shape != (len(names), self.in_features):
            raise ValueError(f'expected [{len(names)}, {self.in_features}] embeddings, got {tuple(embeddings.shape)}')
        emb = F.normalize(embeddings.detach().float(), dim=-1).to(self.class_embeddings.device)
        self.class_names = names
        self.register_buffer('class_embeddings', emb, persistent=False)
        self._needs_text = False

    def all_embeddings(self) -> torch.Tensor:
        """``[num_classes + 1, D]``: the L2-normalised class embeddings, then the background embedding (a zero
        row for ``background='zero'``)."""
        if self.background == 'zero':
            bg = self.class_embeddings.new_zeros(1, self.in_features)
        elif self.background == 'text':
            bg = F.normalize(self.background_text, dim=-1)[None]
        else:
            bg = F.normalize(self.background_embedding, dim=-1)[None]
        return torch.cat([self.class_embeddings.to(bg.dtype), bg], dim=0)

    def current_temperature(self) -> torch.Tensor:
        if not self.training and self.test_temperature is not None:
            return self.temperature.new_tensor(float(self.test_temperature))
        return self.temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self._attached:
            print_log('TextEmbeddingClassifier used before attach_clip(): background/text embeddings are zeros',
                      logger='current', level=logging.WARNING)
            self._attached = True
        emb = self.all_embeddings().to(x.dtype)  # shape: [C + 1, D]
        return self.current_temperature() * F.normalize(x, dim=-1) @ emb.t()  # shape: [N, C + 1]

    def extra_repr(self) -> str:
        return (f'classes={self.num_classes}, dim={self.in_features}, background={self.background!r}, '
                f'file={self.embeddings_file!r}')
