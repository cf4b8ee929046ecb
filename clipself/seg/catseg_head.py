"""CAT-Seg's head: cost volume, per-class embedding, aggregation layers, guided upsampling decoder."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .cost_aggregation import AggregationLayer, GuidedUpsample


class CATSegHead(nn.Module):
    """Per-class segmentation logits from the dense CLIP features, the class text embeddings and two intermediate
    ViT maps (CAT-Seg: Cho et al., "CAT-Seg: Cost Aggregation for Open-Vocabulary Semantic Segmentation", CVPR 2024).

    1. Cost volume: cosine similarity of every patch with every class embedding of every prompt template,
       ``[B, K, T, h, w]``; a 7x7 convolution over the T template channels embeds each class's map
       (``hidden_dim`` channels).
    2. ``num_layers`` :class:`~clipself.seg.cost_aggregation.AggregationLayer` (spatial window attention per
       class, then linear attention across classes); appearance guidance: a 3x3 conv of the (unnormalised) dense
       CLIP features; text guidance: a linear map of the template-averaged class embeddings.
    3. Decoder: two 2x :class:`~clipself.seg.cost_aggregation.GuidedUpsample` stages guided by the intermediate
       ViT maps (first upsampled 2x to ``guidance_dims[0]`` channels, second 4x to ``guidance_dims[1]``, each then
       projected by a 3x3 conv), and a 3x3 conv to one logit per class: ``[B, K, 4h, 4w]``.
    4. With more than ``max_classes`` classes, only the ``max_classes`` whose best patch-template correlation is
       highest (per image) go through steps 1-3; the others get the logit ``-100``.

    Args:
        clip_dim: the CLIP embedding size D; vit_width: the ViT width of the intermediate maps.
        num_templates: prompt templates T per class (the cost volume's channels).
        feature_hw: the dense grid ``(h, w)`` the head is built for (the CLIP input size / patch size).
        hidden_dim, appearance_dim, text_dim, num_heads, window_size, pooling, num_layers: CAT-Seg's
            ``HIDDEN_DIMS`` (128), ``APPEARANCE/TEXT_GUIDANCE_PROJ_DIM`` (128), ``NUM_HEADS`` (4),
            ``WINDOW_SIZES`` (12), ``POOLING_SIZES`` (2, 2; ``test_pooling`` (1, 1) in eval mode, as its
            evaluation script sets), ``NUM_LAYERS`` (2).
        decoder_dims: channels of the two decoder stages (64, 32); guidance_dims: channels of the upsampled
            intermediate maps (256, 128); guidance_proj_dims: their projections (32, 16).
        max_classes: CAT-Seg's ``pad_len`` (256): classes are padded to it in the class attention, or the top
            ``max_classes`` kept beyond it; 0 disables both.
    """

    def __init__(self, *, clip_dim: int, vit_width: int, num_templates: int, feature_hw: Tuple[int, int],
                 hidden_dim: int = 128, appearance_dim: int = 128, text_dim: int = 128, num_heads: int = 4,
                 window_size: int = 12, pooling: Sequence[int] = (2, 2), test_pooling: Sequence[int] = (1, 1),
                 num_layers: int = 2,
                 decoder_dims: Sequence[int] = (64, 32), guidance_dims: Sequence[int] = (256, 128),
                 guidance_proj_dims: Sequence[int] = (32, 16), max_classes: int = 256):
        super().__init__()
        self.max_classes = int(max_classes)
        self.feature_hw = tuple(feature_hw)
        self.cost_embed = nn.Conv2d(num_templates, hidden_dim, kernel_size=7, padding=3)
        self.appearance_proj = nn.Sequential(nn.Conv2d(clip_dim, appearance_dim, 3, padding=1), nn.ReLU())
        self.text_proj = nn.Sequential(nn.Linear(clip_dim, text_dim), nn.ReLU())
        self.layers = nn.ModuleList([
            AggregationLayer(dim=hidden_dim, appearance_dim=appearance_dim, text_dim=text_dim, num_heads=num_heads,
                             window_size=window_size, feature_hw=self.feature_hw, pooling=tuple(pooling),
                             test_pooling=tuple(test_pooling), pad_len=self.max_classes) for _ in range(num_layers)])
        # the intermediate ViT maps, upsampled 2x and 4x to the decoder's resolutions, then projected
        self.guidance_up = nn.ModuleList([
            nn.ConvTranspose2d(vit_width, guidance_dims[0], kernel_size=2, stride=2),
            nn.ConvTranspose2d(vit_width, guidance_dims[1], kernel_size=4, stride=4)])
        self.guidance_proj = nn.ModuleList([
            nn.Sequential(nn.Conv2d(d, p, 3, padding=1), nn.ReLU()) for d, p in zip(guidance_dims, guidance_proj_dims)])
        self.decoder = nn.ModuleList([
            GuidedUpsample(in_channels=hidden_dim, out_channels=decoder_dims[0],
                           guidance_channels=guidance_proj_dims[0]),
            GuidedUpsample(in_channels=decoder_dims[0], out_channels=decoder_dims[1],
                           guidance_channels=guidance_proj_dims[1])])
        self.out = nn.Conv2d(decoder_dims[1], 1, 3, padding=1)

    @staticmethod
    def correlation(dense: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Cosine cost volume: ``dense [B, D, h, w]``, ``text [B, K, T, D]`` -> ``[B, K, T, h, w]``."""
        return torch.einsum('bdhw,bktd->bkthw', F.normalize(dense, dim=1), F.normalize(text, dim=-1))

    def forward(self, dense: torch.Tensor, text: torch.Tensor, intermediate: Sequence[torch.Tensor]) -> torch.Tensor:
        """
        Args:
            dense: ``[B, D, h, w]`` dense CLIP features (before L2 normalisation).
            text: ``[K, T, D]`` (or per image ``[B, K, T, D]``) class embeddings per template.
            intermediate: two ViT token maps ``[B, width, h, w]`` (CAT-Seg: blocks 3 and 7 of B/16).
        Returns:
            ``[B, K, 4h, 4w]`` logits.
        """
        b, _, h, w = dense.shape
        if (h, w) != self.feature_hw:
            raise ValueError(f'the head was built for a {self.feature_hw[0]}x{self.feature_hw[1]} grid, got {h}x{w} '
                             '(the CLIP input must be resized to the configured clip_size)')
        if text.dim() == 3:
            text = text[None].expand(b, *text.shape)
        num_classes = text.shape[1]
        corr = self.correlation(dense, text)  # shape: [B, K, T, h, w]
        kept = None
        if 0 < self.max_classes < num_classes:  # the classes best correlated anywhere in the image
            kept = corr.flatten(2).amax(dim=-1).topk(self.max_classes, dim=-1).indices  # shape: [B, k]
            text = text.gather(1, kept[:, :, None, None].expand(-1, -1, *text.shape[2:]))
            corr = corr.gather(1, kept[:, :, None, None, None].expand(-1, -1, *corr.shape[2:]))
        k = text.shape[1]
        x = self.cost_embed(corr.flatten(0, 1))  # shape: [B*k, C, h, w]
        x = x.view(b, k, -1, h, w).permute(0, 1, 3, 4, 2)  # shape: [B, k, h, w, C]
        appearance = self.appearance_proj(dense).permute(0, 2, 3, 1)  # shape: [B, h, w, Ga]
        text_guidance = self.text_proj(F.normalize(F.normalize(text, dim=-1).mean(dim=2), dim=-1))  # shape: [B, k, Gt]
        for layer in self.layers:
            x = layer(x, appearance, text_guidance)
        y = x.permute(0, 1, 4, 2, 3).flatten(0, 1)  # shape: [B*k, C, h, w]
        for stage, up, proj, feat in zip(self.decoder, self.guidance_up, self.guidance_proj, intermediate):
            y = stage(y, proj(up(feat)))
        logits = self.out(y).view(b, k, *y.shape[-2:])  # shape: [B, k, 4h, 4w]
        if kept is None:
            return logits
        full = logits.new_full((b, num_classes, *logits.shape[-2:]), -100.0)
        return full.scatter(1, kept[:, :, None, None].expand_as(logits), logits)

    def extra_repr(self) -> str:
        return f'feature_hw={self.feature_hw}, max_classes={self.max_classes}'
