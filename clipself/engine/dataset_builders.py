"""Datasets of the clipself scope built from configs, with data generated on first use for the configs that
need no dataset (``generate=dict(...)``: tiny synthetic runs, the demo)."""
import os
from typing import Optional

from mmengine.dist import barrier, is_main_process

from ..data.distill_dataset import CLIPSelfDataset
from ..data.panoptic import COCOPanopticRegionDataset
from ..data.region_nouns import RegionNounDataset
from ..data.synthetic_coco import write_synthetic_coco
from ..registry import DATASETS


def ensure_generated(generate: Optional[dict], data_root: str, marker: str) -> None:
    """Write the synthetic COCO set (``write_synthetic_coco(data_root, **generate)``) unless ``marker`` (a path
    under ``data_root``) exists; the main process writes, every process waits. No-op when ``generate`` is None."""
    if generate is None:
        return
    if is_main_process() and not os.path.isfile(os.path.join(data_root, marker)):
        write_synthetic_coco(data_root, **generate)
    barrier()


@DATASETS.register_module(name='CLIPSelfDataset')
def build_clipself_dataset(*, generate: Optional[dict] = None, **kwargs) -> CLIPSelfDataset:
    """``CLIPSelfDataset`` from a config; with ``generate=dict(num_images=..., seed=...)`` the images, COCO
    json and proposals are first generated into ``data_root`` (once; kept for later runs), so the same
    loader reads them as it reads COCO."""
    ensure_generated(generate, kwargs.get('data_root', ''), os.path.join('annotations', 'instances.json'))
    return CLIPSelfDataset(**kwargs)


@DATASETS.register_module(name='RegionNounDataset')
def build_region_noun_dataset(*, generate: Optional[dict] = None, **kwargs) -> RegionNounDataset:
    """``RegionNounDataset`` (boxes with noun labels, the RegionCLIP-style baseline) from a config; with
    ``generate=dict(...)`` a synthetic COCO set is first written into ``data_root`` (once), whose instances json
    (shape nouns, the true labels as the pseudo-labels) is then the box file."""
    ensure_generated(generate, kwargs.get('data_root', ''), kwargs.get('ann_file', 'annotations/instances.json'))
    return RegionNounDataset(**kwargs)


@DATASETS.register_module(name='COCOPanopticRegions')
def build_panoptic_regions(*, generate: Optional[dict] = None, **kwargs) -> COCOPanopticRegionDataset:
    """``COCOPanopticRegionDataset`` from a config. With ``generate=dict(num_images=..., seed=..., ...)``
    (``write_synthetic_coco`` arguments) a synthetic panoptic set is first written into ``data_root`` when its
    ``ann_file`` is absent (once, by the main process; later runs reuse it)."""
    ensure_generated(generate, kwargs.get('data_root', ''), kwargs.get('ann_file', 'annotations/panoptic.json'))
    return COCOPanopticRegionDataset(**kwargs)
