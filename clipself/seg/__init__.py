"""Open-vocabulary semantic segmentation on MMSegmentation 1.x: training-free segmentor, CAT-Seg (trained head),
datasets mmseg lacks.

Importing this package registers the plug-ins with mmseg's registries (configs: ``default_scope='mmseg'``,
``custom_imports=dict(imports=['clipself.seg'], allow_failed_imports=False)``) and imports ``clipself.engine``
(safe checkpoint loading, atomic checkpoint writes).
"""
from .. import engine  # noqa: F401  (safe globals for test loading, 'atomic_local' backend)
from .catseg_segmentor import CATSegSegmentor
from .datasets import (ADE847Dataset, COCOObjectDataset, PascalContext459Dataset, PascalVOC20Dataset,
                       coco_object_labels)
from .segmentor import ZeroShotSegmentor, class_file
from .synthetic import SyntheticSceneSegDataset
from .transforms import LoadCheckedAnnotations

__all__ = ['ZeroShotSegmentor', 'CATSegSegmentor', 'class_file', 'PascalVOC20Dataset', 'COCOObjectDataset',
           'ADE847Dataset', 'PascalContext459Dataset', 'coco_object_labels', 'LoadCheckedAnnotations',
           'SyntheticSceneSegDataset']
