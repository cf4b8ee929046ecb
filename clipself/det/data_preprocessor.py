"""Batching for F-ViT: mmdet's normalise + pad-to-divisor, then padding to a fixed canvas in the normalised space
(zeros = the mean colour), in training and in testing, as the published recipe pads its inputs."""
from typing import Optional, Sequence

from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.models.data_preprocessors.data_preprocessor import BatchFixedSizePad
from mmdet.registry import MODELS


@MODELS.register_module()
class FViTDataPreprocessor(DetDataPreprocessor):
    """``DetDataPreprocessor`` plus fixed-size padding on the right/bottom.

    Args:
        fixed_size: ``(H, W)`` canvas of training batches (e.g. ``(640, 640)``); None: no fixed padding.
        test_fixed_size: the canvas of test batches (default: ``fixed_size``). The reference pads training and
            test images to the same canvas (B/16 OV-COCO: 640; only its commits before 75c2ee5 padded training
            crops to 1024).
    Inputs larger than the canvas are only padded to ``pad_size_divisor``. Ground-truth masks are padded with
    the images in training (``pad_mask=True``).
    """

    def __init__(self, *, fixed_size: Optional[Sequence[int]] = None,
                 test_fixed_size: Optional[Sequence[int]] = None, **kwargs):
        super().__init__(**kwargs)
        self.fixed_size = tuple(fixed_size) if fixed_size is not None else None
        self.test_fixed_size = tuple(test_fixed_size) if test_fixed_size is not None else self.fixed_size

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        size = self.fixed_size if training else self.test_fixed_size
        if size is not None:
            pad = BatchFixedSizePad(size=size, pad_mask=bool(training and self.pad_mask))
            data['inputs'], data['data_samples'] = pad(data['inputs'], data['data_samples'])
        return data
