"""CAT-Seg (a trained open-vocabulary segmenter on a fine-tuned CLIP) as an mmseg 1.x segmentor."""
import logging
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmseg.models.segmentors import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ..evaluation.segmentation import ClassQueries, load_class_queries
from ..models import build_clip
from ..models.text import make_prompts
from .catseg_head import CATSegHead
from .clip_finetune import train_query_value
from .segmentor import class_file

ClassesArg = Union[str, Sequence[str]]


def _classes(classes: ClassesArg) -> ClassQueries:
    return load_class_queries(class_file(classes) if isinstance(classes, str) else classes, unique=False)


def _pair(v) -> Tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, (int, float)) else (int(v[0]), int(v[1]))


def window_starts(size: int, crop: int, stride: int) -> List[int]:
    """Window offsets covering ``size`` with windows of ``crop`` every ``stride`` (the last one flush with the end)."""
    if crop >= size:
        return [0]
    n = -(-(size - crop) // stride) + 1
    return [min(i * stride, size - crop) for i in range(n)]


@MODELS.register_module()
class CATSegSegmentor(BaseSegmentor):
    """CAT-Seg: a :class:`~clipself.seg.catseg_head.CATSegHead` on a CLIP whose attention query/value projections
    (both towers) are fine-tuned; one sigmoid per class, trained with binary cross-entropy.

    The image goes to the CLIP at ``clip_size`` (384 for B/16, 336 for L/14-336: a 24x24 grid); the dense features
    are CLIPSelf's ``encode_dense`` (attention-free last block, as CAT-Seg's ``dense=True``) and the intermediate
    maps the outputs of ``guidance_blocks``. Text embeddings are computed by the text tower at every training step
    (it is fine-tuned) and once per evaluation otherwise.

    Args:
        clip: ``build_clip`` arguments.
        classes: the class list used by ``predict`` (test vocabulary: a shipped list name, a ``.txt`` path, or
            lines; synonyms comma-separated are averaged per template as CAT-Seg does).
        train_classes: the class list of the training labels (default ``classes``).
        templates: prompt templates (``'single'``, ``'imagenet'``, ``'vild'`` or a list); one cost-volume channel
            each.
        clip_size: the CLIP input size (the training crop is resized to it).
        guidance_blocks: the two ViT blocks whose outputs guide the decoder.
        head: :class:`CATSegHead` arguments other than the sizes taken from the CLIP.
        finetune: ``'attention'`` (query/value projections and position embeddings) or ``'none'`` (frozen CLIP).
        class_labels: optional dataset label of each class (VOC-20b: its 39 background classes all map to label
            0); the class probabilities of one label are max-merged.
        test_cfg: ``dict(mode='slide_global', canvas=640, crop=384, stride=256)`` (CAT-Seg's evaluation: the image
            resized to ``canvas x canvas``, sliding ``crop`` windows plus the whole image at ``crop``, sigmoid
            probabilities averaged) or ``dict(mode='whole')`` (the image resized to ``clip_size``).
    """

    def __init__(self, *, clip: dict, classes: ClassesArg, train_classes: Optional[ClassesArg] = None,
                 templates='single', clip_size: int = 384, guidance_blocks: Sequence[int] = (3, 7),
                 head: Optional[dict] = None, finetune: str = 'attention', class_labels: Optional[Sequence[int]] = None,
                 text_batch_size: int = 1024, test_cfg: Optional[dict] = None, train_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if finetune not in ('attention', 'none'):
            raise ValueError(f"finetune must be 'attention' or 'none', got {finetune!r}")
        if len(guidance_blocks) != 2:
            raise ValueError(f'guidance_blocks must name two ViT blocks, got {list(guidance_blocks)}')
        self.clip = build_clip(**clip)
        n = self.clip.tower.num_blocks
        if not all(-n <= i < n for i in guidance_blocks):
            raise ValueError(f'guidance_blocks {list(guidance_blocks)} outside the {n} blocks of '
                             f'{self.clip.model_name}')
        self.guidance_blocks = [int(i) % n for i in guidance_blocks]
        self.finetune = finetune
        if finetune == 'attention':
            train_query_value(self.clip, no_query=[self.clip.tower.blocks[-1].attn])
        else:
            self.clip.requires_grad_(False)
        self.test_classes = _classes(classes)
        self.train_classes = _classes(train_classes) if train_classes is not None else self.test_classes
        self.templates = templates
        self.num_templates = len(make_prompts('x', templates))
        self.clip_size = _pair(clip_size)
        grid = self.clip.tower.grid_for(self.clip_size)
        self.head = CATSegHead(clip_dim=self.clip.embed_dim, vit_width=self.clip.tower.width,
                               num_templates=self.num_templates, feature_hw=grid, **(head or {}))
        self.num_classes = len(self.test_classes)
        if class_labels is not None:
            class_labels = [int(v) for v in class_labels]
            if len(class_labels) != self.num_classes:
                raise ValueError(f'class_labels has {len(class_labels)} entries for the {self.num_classes} classes '
                                 f'of {self.test_classes.source}')
            self.num_classes = max(class_labels) + 1
        self.class_labels = class_labels
        self.out_channels = self.num_classes
        self.align_corners = False
        self.text_batch_size = int(text_batch_size)
        self.test_cfg = dict(test_cfg or dict(mode='slide_global', canvas=640, crop=384, stride=256))
        if self.test_cfg.get('mode') not in ('slide_global', 'whole'):
            raise ValueError(f"test_cfg.mode must be 'slide_global' or 'whole', got {self.test_cfg.get('mode')!r}")
        self.train_cfg = train_cfg
        self._test_text: Optional[torch.Tensor] = None  # cached test embeddings; cleared by train()

    # -- text side ----------------------------------------------------------------------------------------
    def class_embeddings(self, classes: ClassQueries) -> torch.Tensor:
        """``[K, T, D]``: per class and template the L2-normalised text embedding (synonyms averaged, renormalised).
        Runs the text tower (with gradients when they are enabled)."""
        prompts = [p for q in classes.queries for p in make_prompts(q, self.templates)]
        device = self.clip.device
        chunks = [self.clip.encode_text(self.clip.tokenize(prompts[i:i + self.text_batch_size]).to(device))
                  for i in range(0, len(prompts), self.text_batch_size)]
        emb = F.normalize(torch.cat(chunks), dim=-1).view(len(classes.queries), self.num_templates, -1)
        per_class = emb.new_zeros(len(classes), *emb.shape[1:])
        per_class = per_class.index_add(0, classes.query_class.to(device), emb)  # shape: [K, T, D]
        return F.normalize(per_class, dim=-1)

    def test_embeddings(self) -> torch.Tensor:
        if self._test_text is None:
            with torch.no_grad():
                self._test_text = self.class_embeddings(self.test_classes)
            print_log(f'CAT-Seg text embeddings: {len(self.test_classes)} classes x {self.num_templates} templates',
                      logger='current', level=logging.INFO)
        return self._test_text

    def train(self, mode: bool = True):
        self._test_text = None  # the text tower may change
        return super().train(mode)

    # -- image side ---------------------------------------------------------------------------------------
    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """``[B, 3, H, W]`` (CLIP-normalised, resized to ``clip_size`` here) -> the dense features ``[B, D, h, w]``
        (not normalised) and the two guidance maps ``[B, width, h, w]``."""
        if tuple(inputs.shape[-2:]) != self.clip_size:
            inputs = F.interpolate(inputs, size=self.clip_size, mode='bilinear', align_corners=False)
        tokens, (h, w), outs = self.clip.tower.forward_tokens(inputs, dense=True, out_indices=self.guidance_blocks)
        dense = self.clip.dense_head(tokens[:, 1:], (h, w), normalize=False)
        maps = [o[:, 1:].transpose(1, 2).reshape(o.shape[0], -1, h, w) for o in outs]  # shape: [B, width, h, w]
        return dense, maps

    def _logits(self, inputs: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        dense, maps = self.extract_feat(inputs)
        return self.head(dense, text, maps)  # shape: [B, K, 4h, 4w]

    def encode_decode(self, inputs: torch.Tensor, batch_img_metas: List[dict]) -> torch.Tensor:
        """Whole-input class probabilities: ``[B, 3, H, W]`` -> ``[B, K, H, W]`` (sigmoid)."""
        logits = self._logits(inputs, self.test_embeddings())
        return resize(logits, size=inputs.shape[-2:], mode='bilinear', align_corners=False).sigmoid()

    def slide_global(self, image: torch.Tensor) -> torch.Tensor:
        """CAT-Seg's evaluation of one ``[1, 3, H, W]`` image -> ``[1, K, H, W]`` probabilities: the image resized to
        ``canvas x canvas``; ``crop`` windows every ``stride`` and the whole image resized to ``crop``, in one
        batch; window probabilities averaged where they overlap, then averaged with the whole-image ones."""
        cfg = self.test_cfg
        canvas, crop, stride = _pair(cfg.get('canvas', 640)), _pair(cfg.get('crop', 384)), _pair(cfg.get('stride', 256))
        big = F.interpolate(image, size=canvas, mode='bilinear', align_corners=False)
        boxes = [(y, x) for y in window_starts(canvas[0], crop[0], stride[0])
                 for x in window_starts(canvas[1], crop[1], stride[1])]
        crops = [big[..., y:y + crop[0], x:x + crop[1]] for y, x in boxes]
        crops.append(F.interpolate(image, size=crop, mode='bilinear', align_corners=False))
        logits = self._logits(torch.cat(crops), self.test_embeddings())
        probs = F.interpolate(logits, size=crop, mode='bilinear', align_corners=False).sigmoid()  # shape: [n+1, K, ...]
        acc = probs.new_zeros(1, probs.shape[1], *canvas)
        count = probs.new_zeros(1, 1, *canvas)
        for (y, x), p in zip(boxes, probs[:-1]):
            acc[..., y:y + crop[0], x:x + crop[1]] += p
            count[..., y:y + crop[0], x:x + crop[1]] += 1
        whole = F.interpolate(probs[-1:], size=canvas, mode='bilinear', align_corners=False)
        merged = (acc / count + whole) / 2
        return F.interpolate(merged, size=image.shape[-2:], mode='bilinear', align_corners=False)

    def merge_labels(self, probs: torch.Tensor) -> torch.Tensor:
        """``[B, K, H, W]`` class probabilities -> ``[B, num_classes, H, W]``: the max over the classes of each dataset
        label (``class_labels``); unchanged without it."""
        if self.class_labels is None:
            return probs
        out = probs.new_zeros(probs.shape[0], self.num_classes, *probs.shape[2:])
        index = torch.tensor(self.class_labels, device=probs.device)[None, :, None, None].expand_as(probs)
        return out.scatter_reduce(1, index, probs, reduce='amax', include_self=False)

    def inference(self, inputs: torch.Tensor, batch_img_metas: List[dict]) -> torch.Tensor:
        """``[B, 3, H, W]`` -> ``[B, num_classes, H, W]`` probabilities (``test_cfg.mode``)."""
        with torch.no_grad():
            if self.test_cfg['mode'] == 'whole':
                probs = self.encode_decode(inputs, batch_img_metas)
            else:
                probs = torch.cat([self.slide_global(inputs[i:i + 1]) for i in range(inputs.shape[0])])
        return self.merge_labels(probs)

    def predict(self, inputs: torch.Tensor, data_samples=None):
        """mmseg's predict: ``pred_sem_seg`` and ``seg_logits`` (the probabilities) at the original image size."""
        if data_samples is not None:
            batch_img_metas = [s.metainfo for s in data_samples]
        else:
            batch_img_metas = [dict(ori_shape=inputs.shape[2:], img_shape=inputs.shape[2:], pad_shape=inputs.shape[2:],
                                    padding_size=[0, 0, 0, 0])] * inputs.shape[0]
        return self.postprocess_result(self.inference(inputs, batch_img_metas), data_samples)

    # -- training -----------------------------------------------------------------------------------------
    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        """Binary cross-entropy of every class's logit at every labelled pixel (logits upsampled to the crop)."""
        gt = torch.stack([s.gt_sem_seg.data[0] for s in data_samples]).long()  # shape: [B, H, W]
        text = self.class_embeddings(self.train_classes)
        logits = resize(self._logits(inputs, text), size=gt.shape[-2:], mode='bilinear', align_corners=False)
        k = logits.shape[1]
        valid = gt != self.ignore_index
        bad = gt[valid & (gt >= k)]
        if bad.numel():
            raise ValueError(f'training label {int(bad[0])} outside the {k} training classes '
                             f'({self.train_classes.source})')
        target = F.one_hot(gt.clamp(0, k - 1), k).permute(0, 3, 1, 2).to(logits.dtype)  # shape: [B, K, H, W]
        weight = valid[:, None].to(logits.dtype).expand_as(logits)
        loss = F.binary_cross_entropy_with_logits(logits, target, weight=weight, reduction='sum')
        return dict(loss_bce=loss / weight.sum().clamp(min=1))

    @property
    def ignore_index(self) -> int:
        return int((self.train_cfg or {}).get('ignore_index', 255))

    def _forward(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        """``[B, K, 4h, 4w]`` logits of the test classes (``mode='tensor'``)."""
        return self._logits(inputs, self.test_embeddings())

    def extra_repr(self) -> str:
        return (f'classes={len(self.test_classes)} ({self.test_classes.source}), train_classes='
                f'{len(self.train_classes)}, templates={self.num_templates}, clip_size={self.clip_size}, '
                f'guidance_blocks={self.guidance_blocks}, finetune={self.finetune!r}')
