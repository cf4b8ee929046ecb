"""A stub dense CLIP whose features are known functions of the pixels (see ``panoptic_fixture``: the red
channel encodes each pixel's class), for checking the evaluation against hand / direct computations."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from clipself.models import mask_pool, roi_features


class StubCLIP(nn.Module):
    """``mode='onehot'``: a pixel's feature is the one-hot of its class (``D = num_classes + 1``, the last
    dimension never used by pixels); ``mode='random'``: a fixed random ``D``-vector per class. Dense features
    are the patch averages, crop features the image average (padding and unknown pixels contribute 0).
    Inputs are pixels / 255 (``image_mean`` 0, ``image_std`` 1). ``calls`` records ``self.training`` at every
    ``encode_dense``."""

    def __init__(self, *, num_classes: int = 4, patch: int = 1, image_size: int = 32, mode: str = 'onehot',
                 dim: int = 6, seed: int = 0):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))  # gives the stub a device and a train/eval mode
        self.num_classes, self.mode = num_classes, mode
        self.patch_size, self.image_size = (patch, patch), (image_size, image_size)
        self.image_mean, self.image_std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
        self.model_name = f'stub-{mode}'
        if mode == 'onehot':
            self.embed_dim = num_classes + 1
            self.register_buffer('table', torch.eye(num_classes + 1)[:num_classes])
        else:
            self.embed_dim = dim
            self.register_buffer('table', torch.randn(num_classes, dim, generator=torch.Generator().manual_seed(seed)))
        self.calls = []

    def pixel_features(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 3, H, W]`` in [0, 1] -> ``[B, D, H, W]``."""
        label = (x[:, 0] * 255 / 40).round().long() - 1  # shape: [B, H, W]; -1: no class
        valid = (label >= 0) & (label < self.num_classes)
        f = self.table[label.clamp(0, self.num_classes - 1)] * valid[..., None]  # shape: [B, H, W, D]
        return f.permute(0, 3, 1, 2)

    def encode_dense(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(self.training)
        return F.normalize(F.avg_pool2d(self.pixel_features(x), self.patch_size), dim=1)

    def encode_image(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.pixel_features(x).mean((2, 3)), dim=-1)

    def roi_features(self, dense, boxes):
        return roi_features(dense, boxes, patch_size=self.patch_size)

    def mask_pool(self, dense, masks):
        return mask_pool(dense, masks)
