"""F-ViT on MMDetection 3: open-vocabulary detection on a frozen CLIP ViT (OV-COCO, OV-LVIS, any vocabulary).

Importing this package registers the plug-ins with mmdet's registries (configs: ``default_scope='mmdet'``,
``custom_imports=dict(imports=['clipself.det'], allow_failed_imports=False)``) and imports
``clipself.engine`` (safe checkpoint loading, atomic checkpoint writes).
"""
from .. import engine  # noqa: F401  (safe globals for --resume / test loading, 'atomic_local' backend)
from .backbone import FrozenCLIPViT
from .bbox_head import FViTBBoxHead
from .classifier import TextEmbeddingClassifier
from .data_preprocessor import FViTDataPreprocessor
from .datasets import OVCocoDataset, OVLVISDataset, SyntheticOVCocoDataset
from .detector import FViT
from .evaluation import OVCocoBoxMetric, OVLVISMetric
from .hooks import OVDetectionHook
from .ensemble import clip_region_probs, ensemble_scores
from .losses import OVCrossEntropyLoss
from .pyramid import SimpleFeaturePyramid
from .roi_head import FViTRoIHead

__all__ = ['FViT', 'FrozenCLIPViT', 'SimpleFeaturePyramid', 'FViTRoIHead', 'FViTBBoxHead',
           'TextEmbeddingClassifier', 'OVCrossEntropyLoss', 'FViTDataPreprocessor', 'clip_region_probs',
           'ensemble_scores', 'OVCocoDataset', 'OVLVISDataset', 'SyntheticOVCocoDataset', 'OVCocoBoxMetric',
           'OVLVISMetric', 'OVDetectionHook']
