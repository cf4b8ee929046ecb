"""CLIPSelf self-distillation: region sampling, the student/teacher model and its losses, weight export."""
from .alignment import region_crop_alignment
from .export import ensemble_state_dict, export_clip, split_clipself_state_dict
from .sampling import enlarge_boxes, grid_boxes, grid_choices, sample_grid, sample_proposals

__all__ = ['region_crop_alignment', 'ensemble_state_dict', 'export_clip', 'split_clipself_state_dict', 'enlarge_boxes', 'grid_boxes',
           'grid_choices', 'sample_grid', 'sample_proposals']
