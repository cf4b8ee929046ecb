"""clipself: dense CLIP features, CLIPSelf self-distillation, open-vocabulary detection and segmentation."""
__version__ = '0.1.0'
