"""mmengine side of zero-shot region classification: the dataset ``COCOPanopticRegions``, the model
``CLIPRegionClassifier`` and the metric ``RegionClassificationMetric`` (``docs/region_classification.md``).

Data flow: the dataset yields one dict per image (``clipself.data.panoptic``), ``pseudo_collate`` makes lists
of them, ``CLIPRegionClassifier.val_step/test_step`` returns one record per image (labels, thing/stuff flags,
the rank of the true class for each feature kind, skip counters) and the metric aggregates the records of all
ranks (mmengine's ``collect_results``: each image once) into per-class mean accuracies.
"""
import json
import logging
import os
import time
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub, MMLogger, print_log
from mmengine.model import BaseModel

from ..data.panoptic import COCOPanopticRegionDataset, RegionClasses
from ..evaluation.class_embeddings import resolve_class_embeddings
from ..evaluation.predict import predict_regions
from ..evaluation.region_metrics import KINDS, format_table, summarize, true_class_rank
from ..models import build_clip
from ..models.dense_clip import DenseCLIP
from ..registry import DATASETS, METRICS, MODELS
from .synthetic import ensure_generated

logger = logging.getLogger(__name__)


@DATASETS.register_module(name='COCOPanopticRegions')
def build_panoptic_regions(*, generate: Optional[dict] = None, **kwargs) -> COCOPanopticRegionDataset:
    """``COCOPanopticRegionDataset`` from a config. With ``generate=dict(num_images=..., seed=..., ...)``
    (``write_synthetic_coco`` arguments) a synthetic panoptic set is first written into ``data_root`` when its
    ``ann_file`` is absent (once, by the main process; later runs reuse it)."""
    ensure_generated(generate, kwargs.get('data_root', ''), kwargs.get('ann_file', 'annotations/panoptic.json'))
    return COCOPanopticRegionDataset(**kwargs)


@MODELS.register_module()
class CLIPRegionClassifier(BaseModel):
    """Zero-shot region classifier around a dense CLIP; its ``val_step``/``test_step`` score a batch of
    ``COCOPanopticRegions`` items and return the records ``RegionClassificationMetric`` consumes.

    Args:
        clip: ``build_clip`` keyword arguments (``dict(model_name=..., pretrained=...)``), owned by this model;
            or an already built ``DenseCLIP``, used as it is: not copied, not registered as a submodule (no
            weights of its own in ``state_dict``), its train/eval mode restored after each step.
        class_embeddings: None (text tower + prompt ensemble, cached in ``cache_dir``), the path of a file of
            ``tools/gen_text_embeddings.py`` whose class names equal the dataset's, or a ``[C, D]`` tensor.
        templates: prompt set for the text tower (``'vild'``, ``'single'`` or a list of format strings).
        cache_dir: where text embeddings are cached, per text tower and class list (None: no cache).
        kinds: feature kinds to evaluate (``'rois'``, ``'crops'``, ``'maskpool'``).
        topk: how many classes each region keeps (ranks beyond are misses); capped at the number of classes.
        crop_batch_size: crops per ``encode_image`` call.
        mask_weights: ``'area'`` (token weight = covered fraction) or ``'binary'`` (any coverage).
    A CLIPSelf training checkpoint (``student.clip.*`` / ``teacher.clip.*``) loads its student into an owned CLIP.
    """

    def __init__(self, *, clip: Union[Mapping, DenseCLIP], class_embeddings: Union[None, str, torch.Tensor] = None,
                 templates='vild', cache_dir: Optional[str] = 'work_dirs/text_cache', kinds: Sequence[str] = KINDS,
                 topk: int = 5, crop_batch_size: int = 64, mask_weights: str = 'area',
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if isinstance(clip, Mapping):
            self.clip = build_clip(**clip)
            self._borrowed = None
        elif isinstance(clip, torch.nn.Module):
            object.__setattr__(self, '_borrowed', clip)  # a reference, not a submodule
        else:
            raise TypeError(f'clip must be build_clip arguments (a dict) or a DenseCLIP, got {type(clip).__name__}')
        bad = set(kinds) - set(KINDS)
        if bad or not kinds:
            raise ValueError(f'kinds must be a non-empty subset of {KINDS}, got {list(kinds)}')
        if mask_weights not in ('area', 'binary'):
            raise ValueError(f"mask_weights must be 'area' or 'binary', got {mask_weights!r}")
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        self.class_embeddings, self.templates, self.cache_dir = class_embeddings, templates, cache_dir
        self.kinds, self.topk = tuple(kinds), int(topk)
        self.crop_batch_size, self.mask_weights = int(crop_batch_size), mask_weights
        self._text: Dict[tuple, torch.Tensor] = {}
        self._warned_crop = False
        self._register_load_state_dict_pre_hook(self._student_from_clipself)

    @property
    def clip_model(self) -> DenseCLIP:
        """The CLIP being evaluated (owned or borrowed)."""
        return self._borrowed if self._borrowed is not None else self.clip

    @staticmethod
    def _student_from_clipself(state_dict, prefix, *args):
        """A CLIPSelf training checkpoint: ``student.clip.*`` -> ``clip.clip.*``; the teacher is dropped."""
        if not any(k.startswith(prefix + 'student.clip.') for k in state_dict):
            return
        for k in list(state_dict):
            if k.startswith(prefix + 'student.clip.'):
                state_dict[prefix + 'clip.' + k[len(prefix + 'student.'):]] = state_dict.pop(k)
            elif k.startswith(prefix + 'teacher.'):
                del state_dict[k]

    def class_embeddings_for(self, classes: RegionClasses) -> torch.Tensor:
        """``[C, D]`` embeddings of the dataset's classes (computed once per class list, then kept)."""
        key = tuple(classes.names)
        if key not in self._text:
            self._text[key] = resolve_class_embeddings(self.clip_model, key, self.class_embeddings,
                                                       templates=self.templates, cache_dir=self.cache_dir)
        return self._text[key]

    def predict_batch(self, data: dict) -> List[dict]:
        """A ``pseudo_collate``d batch of ``COCOPanopticRegions`` items -> one record per image."""
        model = self.clip_model
        classes = data['classes'][0]
        if any(c != classes for c in data['classes'][1:]):
            raise ValueError('a batch mixes images of datasets with different class lists')
        crop_hw = tuple(data['crops'][0].shape[-2:]) if len(data['crops']) else None
        if crop_hw and hasattr(model, 'image_size') and crop_hw != tuple(model.image_size) and not self._warned_crop:
            self._warned_crop = True
            print_log(f'crops are {crop_hw[0]}x{crop_hw[1]} but {getattr(model, "model_name", "the CLIP")} was '
                      f'pre-trained at {model.image_size[0]}x{model.image_size[1]}: set the dataset crop_size',
                      logger='current', level=logging.WARNING)
        text = self.class_embeddings_for(classes)
        top = predict_regions(model, class_embeddings=text, topk=self.topk, kinds=self.kinds,
                              crop_batch_size=self.crop_batch_size, mask_weights=self.mask_weights,
                              images=data['image'], boxes=data['boxes'], crops=data['crops'],
                              region_maps=data['region_map'], scales=data['scale'])
        counts = [len(b) for b in data['labels']]
        split = {kind: torch.split(idx.cpu(), counts) for kind, idx in top.items()}
        records = []
        for i, labels in enumerate(data['labels']):
            labels_np = labels.cpu().numpy()
            records.append(dict(
                image_id=data['image_id'][i], labels=labels_np.astype(np.int32),
                isthing=data['isthing'][i].cpu().numpy().astype(bool),
                ranks={kind: true_class_rank(split[kind][i].numpy(), labels_np) for kind in self.kinds},
                num_unknown=int(data['num_unknown'][i]), num_filtered=int(data['num_filtered'][i]),
                num_not_in_png=int(data['num_not_in_png'][i])))
        return records

    def val_step(self, data: dict) -> List[dict]:
        return self.predict_batch(data)

    def test_step(self, data: dict) -> List[dict]:
        return self.predict_batch(data)

    def forward(self, mode: str = 'predict', **data):
        if mode != 'predict':
            raise ValueError(f"CLIPRegionClassifier only predicts (mode='predict'), got mode={mode!r}")
        return self.predict_batch(data)


@METRICS.register_module()
class RegionClassificationMetric(BaseMetric):
    """Per-class mean top-k accuracy of ``rois`` / ``crops`` / ``maskpool`` for thing and stuff regions.

    Keys (percent): ``{kind}.{thing|stuff}.macc{k}`` for k in ``topk``; counts: ``num_regions.thing``,
    ``num_regions.stuff``, ``num_images``, ``skipped.unknown`` / ``skipped.filtered`` / ``skipped.not_in_png``.
    The metrics and a per-class table go to ``{output_dir}/{out_name}`` (default: the run's work dir, found from
    the current mmengine logger; also copied beside the run's log).

    Args:
        topk: accuracies to report.
        output_dir: where the json goes; None = the work dir of the current run (nothing written outside a run).
        out_name: the json's file name.
        collect_device / collect_dir: as mmengine's ``BaseMetric`` (results of all ranks are gathered).
    """
    default_prefix = ''  # keys stay as they are ('rois.thing.macc1'), without mmengine's missing-prefix warning

    def __init__(self, *, topk: Sequence[int] = (1, 5), output_dir: Optional[str] = None,
                 out_name: str = 'region_classification.json', collect_device: str = 'cpu',
                 prefix: Optional[str] = None, collect_dir: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        if not topk or any(int(t) < 1 for t in topk):
            raise ValueError(f'topk must be positive integers, got {topk}')
        self.topk = tuple(int(t) for t in topk)
        self.output_dir, self.out_name = output_dir, out_name

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """One result per image (mmengine's ``collect_results`` relies on it to count each image once)."""
        for rec in data_samples:
            self.results.append(rec)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        seen, unique = set(), []
        for r in results:
            if r['image_id'] in seen:
                continue  # never expected (mmengine drops the sampler's padding); guards against double counting
            seen.add(r['image_id'])
            unique.append(r)
        if len(unique) != len(results):
            print_log(f'{len(results) - len(unique)} duplicate image results ignored', logger='current',
                      level=logging.WARNING)
        classes = (self.dataset_meta or {}).get('classes')
        summary = summarize(unique, topk=self.topk, class_names=classes)
        metrics = summary['metrics']
        print_log('zero-shot region classification (per-class mean accuracy, %):\n'
                  + format_table(metrics, topk=self.topk), logger='current')
        self._write(summary)
        return metrics

    def _run_dirs(self) -> List[str]:
        if self.output_dir:
            return [self.output_dir]
        log_file = getattr(MMLogger.get_current_instance(), 'log_file', None)
        if not log_file:
            return []
        log_dir = os.path.dirname(os.path.abspath(log_file))
        return [os.path.dirname(log_dir), log_dir]  # {work_dir}, {work_dir}/{timestamp}

    def _write(self, summary: dict) -> None:
        dirs = self._run_dirs()
        if not dirs:
            return
        hub = MessageHub.get_current_instance()
        payload = dict(metrics={k: (None if isinstance(v, float) and np.isnan(v) else v)
                                for k, v in summary['metrics'].items()},
                       topk=list(self.topk), units='percent: per-class mean accuracy',
                       epoch=hub.get_info('epoch'), iter=hub.get_info('iter'),
                       time=time.strftime('%Y-%m-%d %H:%M:%S'), per_class=summary['per_class'])
        for d in dirs:
            os.makedirs(d, exist_ok=True)
            path = os.path.join(d, self.out_name)
            tmp = path + '.tmp'
            with open(tmp, 'w') as f:
                json.dump(payload, f, indent=1)
            os.replace(tmp, path)
        print_log(f'region classification results written to {os.path.join(dirs[0], self.out_name)}',
                  logger='current')
