"""Label loading with checks: mmseg's ``LoadAnnotations`` plus clear errors for label maps that do not fit."""
from typing import Optional

import mmcv
import numpy as np
from mmengine import fileio
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadCheckedAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` (label map, ``label_map``, ``reduce_zero_label``), then checks that the label map
    has the size of the image as loaded (``ori_shape``) and only values in ``[0, num_classes)`` or ``ignore_index``;
    a ValueError names the label file otherwise (mmseg's ``IoUMetric`` would silently drop out-of-range values and
    fail obscurely on a size mismatch).

    Args:
        num_classes: number of classes of the dataset (after ``reduce_zero_label``).
        ignore_index: the value that marks unlabelled pixels (255; 65535 for 16-bit label files).
        wide_labels: read 16-bit label files (ADE-847, PC-459 ``.tif``) as they are; mmseg's loader casts every
            label map to uint8. ``reduce_zero_label`` is not supported with them.
    """

    def __init__(self, *, num_classes: int, ignore_index: int = 255, wide_labels: bool = False, **kwargs):
        super().__init__(**kwargs)
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        self.num_classes, self.ignore_index, self.wide_labels = int(num_classes), int(ignore_index), wide_labels

    def _load_seg_map(self, results: dict) -> None:
        if not self.wide_labels:
            super()._load_seg_map(results)
        else:
            if results.get('reduce_zero_label'):
                raise ValueError('wide_labels does not support reduce_zero_label')
            data = fileio.get(results['seg_map_path'], backend_args=self.backend_args)
            seg = mmcv.imfrombytes(data, flag='unchanged', backend=self.imdecode_backend).squeeze()
            if seg.dtype not in (np.uint8, np.uint16, np.int32):
                raise ValueError(f'{results["seg_map_path"]}: expected an 8/16-bit label map, got {seg.dtype}')
            seg = seg.astype(np.int32)
            if results.get('label_map'):
                out = seg.copy()
                for old, new in results['label_map'].items():
                    out[seg == old] = new
                seg = out
            results['gt_seg_map'] = seg
            results['seg_fields'].append('gt_seg_map')
        self.check(results['gt_seg_map'], results['seg_map_path'], results.get('ori_shape'))

    def check(self, seg: np.ndarray, path: str, image_hw: Optional[tuple]) -> None:
        """Raise ValueError naming ``path`` when ``seg`` is not ``image_hw`` big or holds unknown labels."""
        if seg.ndim != 2:
            raise ValueError(f'{path}: label map must be one channel (H, W), got shape {seg.shape}')
        if image_hw is not None and tuple(seg.shape) != tuple(image_hw[:2]):
            raise ValueError(f'{path}: label map is {seg.shape[0]}x{seg.shape[1]} but its image is '
                             f'{image_hw[0]}x{image_hw[1]} (H x W)')
        values = np.unique(seg)
        bad = values[((values < 0) | (values >= self.num_classes)) & (values != self.ignore_index)]
        if bad.size:
            raise ValueError(f'{path}: label values {bad[:8].tolist()} are outside the {self.num_classes} classes '
                             f'(0..{self.num_classes - 1}; ignore index {self.ignore_index})')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, ignore_index={self.ignore_index}, '
                f'wide_labels={self.wide_labels}, reduce_zero_label={self.reduce_zero_label})')
