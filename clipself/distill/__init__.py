"""Distillation of dense CLIP features: CLIPSelf (student/teacher model and its losses), the RegionCLIP-style
baseline, weight export.

Which regions CLIPSelf distils (grid cells, proposals) is data: :mod:`clipself.data.sampling`; the baseline's
boxes with noun labels: :mod:`clipself.data.region_nouns`."""
from .alignment import region_crop_alignment
from .export import ensemble_state_dict, export_clip, split_clipself_state_dict
from .model import CLIPSelf
from .region_clip import RegionCLIP, sample_nouns
from .student import StudentTeacher

__all__ = ['CLIPSelf', 'RegionCLIP', 'StudentTeacher', 'sample_nouns', 'region_crop_alignment',
           'ensemble_state_dict', 'export_clip', 'split_clipself_state_dict']
