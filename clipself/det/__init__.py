"""F-ViT on MMDetection 3: open-vocabulary detection on a frozen CLIP ViT (OV-COCO, OV-LVIS, any vocabulary).

Importing this package is the registration entry point of the detection configs (``default_scope='mmdet'``,
``custom_imports=dict(imports=['clipself.det'], allow_failed_imports=False)``): it registers the plug-ins with
mmdet's registries, imports ``clipself.engine`` (its hooks and the 'atomic_local' checkpoint backend, which
the configs name) and applies :func:`clipself.engine.patches.apply_all`.
"""
from .. import engine  # noqa: F401  (clipself.NonFiniteLossHook, the 'atomic_local' backend)
from ..engine.patches import apply_all
from .backbone import FrozenCLIPViT
from .bbox_head import FViTBBoxHead
from .classifier import TextEmbeddingClassifier
from .data_preprocessor import FViTDataPreprocessor
from .datasets import OVCocoDataset, OVLVISDataset, SyntheticOVCocoDataset
from .detector import FViT
from .metrics import OVCocoBoxMetric, OVLVISMetric
from .hooks import OVDetectionHook
from .ensemble import clip_region_probs, ensemble_scores
from .losses import OVCrossEntropyLoss
from .pyramid import SimpleFeaturePyramid
from .roi_head import FViTRoIHead

__all__ = ['FViT', 'FrozenCLIPViT', 'SimpleFeaturePyramid', 'FViTRoIHead', 'FViTBBoxHead',
           'TextEmbeddingClassifier', 'OVCrossEntropyLoss', 'FViTDataPreprocessor', 'clip_region_probs',
           'ensemble_scores', 'OVCocoDataset', 'OVLVISDataset', 'SyntheticOVCocoDataset', 'OVCocoBoxMetric',
           'OVLVISMetric', 'OVDetectionHook']

apply_all()  # safe loading / resuming of mmengine checkpoints (see clipself.engine.patches)
