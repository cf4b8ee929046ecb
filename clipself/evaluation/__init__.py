"""Zero-shot region classification (CLIPSelf's analysis protocol), plain torch: region masks on the token
grid, region features (``rois`` / ``crops`` / ``maskpool``), class embeddings, per-class mean accuracy.
The mmengine model / metric live in ``clipself.engine.region_eval``, the dataset builder in
``clipself.engine.dataset_builders``."""
from .class_embeddings import cached_text_embeddings, resolve_class_embeddings, text_tower_fingerprint
from .grid_masks import region_masks_on_grid, resize_longest_masks
from .predict import predict_regions, region_features, topk_classes
from .region_metrics import KINDS, mean_class_accuracy, summarize, true_class_rank

__all__ = ['cached_text_embeddings', 'resolve_class_embeddings', 'text_tower_fingerprint', 'region_masks_on_grid',
           'resize_longest_masks', 'predict_regions', 'region_features', 'topk_classes', 'KINDS', 'mean_class_accuracy',
           'summarize', 'true_class_rank']
