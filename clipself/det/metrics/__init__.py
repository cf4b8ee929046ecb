"""Metrics of open-vocabulary detection: OV-COCO box AP50 (novel/base/all), OV-LVIS AP/AP_r/AP_c/AP_f."""
from .common import numpy_float_alias
from .ov_coco_metric import OVCocoBoxMetric, ap50_per_class
from .ov_lvis_metric import OVLVISMetric

__all__ = ['OVCocoBoxMetric', 'OVLVISMetric', 'ap50_per_class', 'numpy_float_alias']
