"""Training-free open-vocabulary semantic segmentation as an mmseg 1.x segmentor."""
import logging
import os
from typing import List, Optional, Sequence, Union

import torch
from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor, EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ..evaluation.class_embeddings import resolve_class_embeddings
from ..evaluation.segmentation import (ClassQueries, class_probabilities, label_map, load_class_queries,
                                       patch_similarities, to_pixels)
from ..models import build_clip
from ..models.last_block import LAST_BLOCKS, LastBlock
from ..models.text import load_text_embeddings

CLASS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'classes')


def class_file(name: str) -> str:
    """A shipped class-name file by name (``'voc21'`` -> ``clipself/seg/classes/voc21.txt``), or ``name`` itself
    when it is a path."""
    if os.sep in name or name.endswith('.txt'):
        return name
    path = os.path.join(CLASS_DIR, f'{name}.txt')
    if not os.path.isfile(path):
        shipped = sorted(f[:-4] for f in os.listdir(CLASS_DIR) if f.endswith('.txt'))
        raise ValueError(f'no shipped class list {name!r}: use one of {shipped} or the path of a .txt file')
    return path


@MODELS.register_module()
class ZeroShotSegmentor(EncoderDecoder):
    """Classifies every patch of the dense CLIP map against class text embeddings; no trained weights.

    The "encoder" is the CLIP's dense path (``encode_dense``, with the chosen last block) and the "decoder" the
    cosine similarity with the text queries, upsampled to the input; mmseg's ``EncoderDecoder`` provides the
    whole-image and slide inference (``test_cfg.mode``, ``crop_size``, ``stride``) and ``predict``. Its
    constructor (which builds a backbone and a decode head) is not used.

    Args:
        clip: ``build_clip`` arguments: ``dict(model_name='EVA02-B-16', pretrained='checkpoints/...')``.
        classes: a shipped class list (``'voc21'``, ``'coco-stuff'``, ...: ``clipself/seg/classes/``), the path of
            a ``.txt`` file (one class per line, synonyms comma-separated) or a list of such lines. The order is
            the dataset's label order.
        embeddings: optional text-embeddings file (``clipself.models.text`` format) with one row per synonym, in
            the order of the class list (its ``class_names`` must equal the synonyms, else a ValueError naming
            the file). None: computed once from the CLIP text tower (prompt ensemble ``templates``) at the first
            forward, cached under ``text_cache_dir`` when given.
        templates: prompt set (``'imagenet'``: CLIP's 80 prompts, the literature's; ``'vild'``) or a list.
        logit_scale: similarities are multiplied by it before the softmax over all queries (40-50).
        last_block: ``'maskclip'`` (the CLIP's own dense path, ``encode_dense`` as everywhere: CLIPSelf's
            attention-free block, or the decoupled block a DeCLIP-style export records, see
            :mod:`clipself.models.dense_mode`), ``'sclip'``, ``'clearclip'`` or ``'naclip'`` (see
            :mod:`clipself.models.last_block`; not with a decoupled export).
        gaussian_std: NACLIP's neighbourhood std in tokens.
        bg_index: the background class's index for datasets with one (VOC21, PC60, COCO-Object); None otherwise.
        bg_threshold: pixels whose top class probability is below it become ``bg_index``.
        test_cfg: ``dict(mode='slide', crop_size=(224, 224), stride=(112, 112))`` or ``dict(mode='whole')``.
    """

    def __init__(self, *, clip: dict, classes: Union[str, Sequence[str]], embeddings: Optional[str] = None,
                 templates='imagenet', logit_scale: float = 40.0, last_block: str = 'maskclip',
                 gaussian_std: float = 5.0, bg_index: Optional[int] = None, bg_threshold: float = 0.0,
                 text_cache_dir: Optional[str] = None, test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, train_cfg: Optional[dict] = None, init_cfg=None):
        BaseSegmentor.__init__(self, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if last_block not in LAST_BLOCKS:
            raise ValueError(f'last_block must be one of {LAST_BLOCKS}, got {last_block!r}')
        self.clip = build_clip(**clip)
        if last_block != 'maskclip' and self.clip.dense_mode.decoupled:
            raise ValueError(f'last_block {last_block!r} would replace the decoupled last block '
                             f'({self.clip.dense_mode}) that {clip.get("pretrained")} was distilled with: use '
                             "last_block='maskclip' (the CLIP's own dense path)")
        self.clip.requires_grad_(False)
        self.clip.eval()
        self.classes: ClassQueries = load_class_queries(class_file(classes) if isinstance(classes, str) else classes)
        self.num_classes = len(self.classes)
        self.out_channels = len(self.classes.queries)  # slide inference accumulates one map per query
        self.align_corners = False
        if bg_index is not None and not 0 <= bg_index < self.num_classes:
            raise ValueError(f'bg_index {bg_index} outside the {self.num_classes} classes of {self.classes.source}')
        if not 0.0 <= bg_threshold < 1.0:
            raise ValueError(f'bg_threshold must be in [0, 1), got {bg_threshold}')
        if bg_threshold > 0 and bg_index is None:
            raise ValueError('bg_threshold needs bg_index (the background class)')
        self.bg_index, self.bg_threshold = bg_index, float(bg_threshold)
        self.logit_scale = float(logit_scale)
        self.last_block = LastBlock(last_block, gaussian_std=gaussian_std)
        self.templates, self.text_cache_dir = templates, text_cache_dir
        self.embeddings_file = embeddings
        if embeddings is not None:  # fail at build time, naming the file, when it does not fit the class list
            self._file_embeddings = self._read_embeddings(embeddings)
        self.test_cfg = ConfigDict(test_cfg or dict(mode='whole'))  # attribute access in slide_inference
        self.train_cfg = train_cfg
        self.register_buffer('query_embeddings', torch.zeros(0), persistent=False)
        self.register_buffer('query_class', self.classes.query_class, persistent=False)

    def _read_embeddings(self, path: str) -> torch.Tensor:
        data = load_text_embeddings(path)
        if data['class_names'] != self.classes.queries:
            found, want = data['class_names'], self.classes.queries
            diff = next((i for i, (a, b) in enumerate(zip(found, want)) if a != b), min(len(found), len(want)))
            raise ValueError(f'text-embedding file {path} holds {len(found)} names but the classes '
                             f'({self.classes.source}) have {len(want)} synonyms; first difference at {diff}: '
                             f'{found[diff] if diff < len(found) else None!r} vs '
                             f'{want[diff] if diff < len(want) else None!r}')
        if data['embeddings'].shape[1] != self.clip.embed_dim:
            raise ValueError(f'text-embedding file {path} is {data["embeddings"].shape[1]}-d, '
                             f'{self.clip.model_name} embeds in {self.clip.embed_dim}-d')
        return data['embeddings']

    # -- text side ----------------------------------------------------------------------------------------
    def text_embeddings(self) -> torch.Tensor:
        """``[Q, D]`` L2-normalised embeddings of every synonym, computed (or read) once."""
        if self.query_embeddings.numel() == 0:
            source = self._file_embeddings if self.embeddings_file is not None else None
            emb = resolve_class_embeddings(self.clip, self.classes.queries, source, templates=self.templates,
                                           cache_dir=self.text_cache_dir)
            self.query_embeddings = emb.to(self.query_class.device)
            print_log(f'text embeddings of {self.num_classes} classes ({self.out_channels} queries) '
                      f'{"from " + self.embeddings_file if self.embeddings_file else "computed"}',
                      logger='current', level=logging.INFO)
        return self.query_embeddings

    # -- image side ---------------------------------------------------------------------------------------
    def train(self, mode: bool = True):
        super().train(mode)
        self.clip.eval()  # no dropout / drop-path: the CLIP is used as it is
        return self

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """``[B, 3, H, W]`` -> the dense map ``[B, D, H/p, W/p]`` (L2-normalised) with the configured last block."""
        variant = None if self.last_block.kind == 'maskclip' else self.last_block
        with torch.no_grad():
            return self.clip.encode_dense(inputs, last_block=variant)

    def encode_decode(self, inputs: torch.Tensor, batch_img_metas: List[dict]) -> torch.Tensor:
        """Query similarities upsampled to the input: ``[B, 3, H, W]`` -> ``[B, Q, H, W]``."""
        sims = patch_similarities(self.extract_feat(inputs), self.text_embeddings())  # shape: [B, Q, h, w]
        return to_pixels(sims, inputs.shape[-2:], self.clip.patch_size)

    def inference(self, inputs: torch.Tensor, batch_img_metas: List[dict]) -> torch.Tensor:
        """Whole or slide inference (``test_cfg.mode``): ``[B, Q, H, W]`` similarities (no softmax yet: the
        scaled softmax is taken at the original image size, in :meth:`postprocess_result`)."""
        mode = self.test_cfg.get('mode', 'whole')
        if mode not in ('slide', 'whole'):
            raise ValueError(f"test_cfg.mode must be 'slide' or 'whole', got {mode!r}")
        with torch.no_grad():
            if mode == 'slide':
                return self.slide_inference(inputs, batch_img_metas)
            return self.whole_inference(inputs, batch_img_metas)

    def postprocess_result(self, seg_logits: torch.Tensor, data_samples=None) -> list:
        """Per image: padding removed, similarities resized to the original image, ``logit_scale`` softmax over
        the queries, best synonym per class, background threshold, argmax. Sets ``seg_logits`` (the class
        probabilities ``[C, H, W]``) and ``pred_sem_seg`` (``[1, H, W]``) of each data sample."""
        from mmseg.structures import SegDataSample
        only_prediction = data_samples is None
        if only_prediction:
            data_samples = [SegDataSample() for _ in range(seg_logits.shape[0])]
        _, _, h, w = seg_logits.shape
        for i, sample in enumerate(data_samples):
            sims = seg_logits[i:i + 1]
            if not only_prediction:
                meta = sample.metainfo
                left, right, top, bottom = meta.get('padding_size', [0, 0, 0, 0])
                sims = sims[:, :, top:h - bottom, left:w - right]
                flip = meta.get('flip', False)
                if flip:
                    sims = sims.flip(dims=(3,) if meta.get('flip_direction') == 'horizontal' else (2,))
                sims = resize(sims, size=meta['ori_shape'], mode='bilinear', align_corners=self.align_corners,
                              warning=False)
            probs = class_probabilities(sims, self.query_class, self.num_classes, self.logit_scale)
            pred = label_map(probs, bg_threshold=self.bg_threshold, bg_index=self.bg_index)
            sample.set_data({'seg_logits': PixelData(data=probs[0]), 'pred_sem_seg': PixelData(data=pred)})
        return data_samples

    def _forward(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        """``[B, Q, H, W]`` query similarities of the whole input (``mode='tensor'``)."""
        with torch.no_grad():
            return self.encode_decode(inputs, [])

    def loss(self, inputs, data_samples) -> dict:
        raise RuntimeError('ZeroShotSegmentor is training-free: it has no loss (use tools/test.py)')

    def extra_repr(self) -> str:
        return (f'classes={self.num_classes} ({self.out_channels} queries, {self.classes.source}), '
                f'last_block={self.last_block}, logit_scale={self.logit_scale}, bg_index={self.bg_index}, '
                f'bg_threshold={self.bg_threshold}')
