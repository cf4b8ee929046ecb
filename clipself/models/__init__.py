"""Dense CLIP features: build a CLIP, encode images densely, pool regions and masks, embed text.

Plain PyTorch + open_clip/timm; no mm* imports.
"""
from .checkpoint import CheckpointError, LoadReport, read_checkpoint, save_safetensors, to_eva_clip
from .dense_clip import DenseCLIP
from .factory import build_clip
from .pooling import check_boxes, mask_pool, roi_features

__all__ = ['build_clip', 'DenseCLIP', 'roi_features', 'mask_pool', 'check_boxes', 'read_checkpoint',
           'save_safetensors', 'to_eva_clip', 'CheckpointError', 'LoadReport']
