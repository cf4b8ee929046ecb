"""CLIPSelf self-distillation: the student/teacher model and its losses, weight export.

Which regions are distilled (grid cells, proposals) is data: :mod:`clipself.data.sampling`."""
from .alignment import region_crop_alignment
from .export import ensemble_state_dict, export_clip, split_clipself_state_dict
from .model import CLIPSelf

__all__ = ['CLIPSelf', 'region_crop_alignment', 'ensemble_state_dict', 'export_clip', 'split_clipself_state_dict']
