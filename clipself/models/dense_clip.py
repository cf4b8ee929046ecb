"""``DenseCLIP``: an open_clip CLIP with dense (per-patch) features at any input size."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .dense_mode import DenseMode, dense_block
from .device import module_device
from .pooling import mask_pool, roi_features
from .preprocess import CLIP_MEAN, CLIP_STD, normalize_pixels
from .towers import DenseTower, make_tower
from .variants import TowerVariants, get_variants


class DenseCLIP(nn.Module):
    """Wraps an open_clip ``CLIP``/``CustomTextCLIP`` (``self.clip``; its state dict keys are open_clip's
    under ``clip.``) and adds the dense path of CLIPSelf.

    Args:
        clip: the open_clip model.
        model_name: its open_clip name (recorded in exports).
        tokenizer: the open_clip tokenizer for ``encode_text`` inputs.
    """

    def __init__(self, *, clip: nn.Module, model_name: str, tokenizer=None):
        super().__init__()
        self.clip = clip
        self.model_name = model_name
        self.tokenizer = tokenizer
        self.tower: DenseTower = make_tower(clip.visual)
        self.set_dense_mode(None)

    # -- properties -----------------------------------------------------------------------------------
    @property
    def patch_size(self):
        """``(ph, pw)`` in pixels."""
        return self.tower.patch_size

    @property
    def embed_dim(self) -> int:
        proj = self.clip.text_projection if hasattr(self.clip, 'text_projection') else self.clip.text.text_projection
        return proj.out_features if isinstance(proj, nn.Linear) else proj.shape[1]  # SigLIP: a Linear with bias

    @property
    def logit_scale(self) -> float:
        """The CLIP's learned temperature ``exp(logit_scale)`` (its image-text logits are ``scale * cos``)."""
        return float(self.clip.logit_scale.detach().exp())

    @property
    def logit_bias(self) -> Optional[float]:
        """SigLIP's learned logit bias (its pair probability is ``sigmoid(scale * cos + bias)``); None for softmax
        CLIPs. clipself's classifiers take an argmax or a softmax over classes, where a bias shared by all classes
        cancels (docs/siglip.md)."""
        bias = getattr(self.clip, 'logit_bias', None)
        return None if bias is None else float(bias.detach())

    @property
    def image_size(self):
        """The pre-training input size ``(H, W)`` (the teacher/crop size)."""
        g, p = self.tower.pretrain_grid, self.tower.patch_size
        return g[0] * p[0], g[1] * p[1]

    @property
    def image_mean(self):
        return getattr(self.clip.visual, 'image_mean', None) or CLIP_MEAN

    @property
    def image_std(self):
        return getattr(self.clip.visual, 'image_std', None) or CLIP_STD

    @property
    def device(self) -> torch.device:
        """Where the weights are (CPU for a model without parameters)."""
        return module_device(self)

    def normalize_pixels(self, images: torch.Tensor) -> torch.Tensor:
        """``[..., 3, H, W]`` uint8 (0-255) or float (0-1) pixels -> float32 normalised with this CLIP's
        mean/std: the input of ``encode_image`` / ``encode_dense``."""
        return normalize_pixels(images, self.image_mean, self.image_std)

    def set_window_attention(self, window_size: int = 0, blocks: Sequence[int] = ()) -> None:
        """Local ``window_size x window_size``-token window attention in ``blocks`` of the image tower (the
        CLIPSelf window variant: EVA02 B/16 uses 16 in blocks 0, 1, 3, 4, 6, 7, 9, 10); the CLS token is
        replicated into every window and averaged back. ``window_size=0`` restores global attention."""
        self.tower.set_window_attention(window_size, blocks)

    @property
    def variants(self) -> Optional[TowerVariants]:
        """The tower options (ReViT residual attention, ViTAEv2 conv branches) ``build_clip`` attached, or None."""
        return get_variants(self.clip.visual)

    def variant_parameters(self) -> List[nn.Parameter]:
        """The options' weights (they train whatever blocks train); empty without options."""
        return list(self.variants.parameters()) if self.variants is not None else []

    def reset_variants(self) -> None:
        """Set the options to their identity values (ReViT ``alpha = 1``, zero conv outputs): the unchanged CLIP."""
        if self.variants is not None:
            self.variants.reset_to_identity()

    def compile_encoders(self, **options) -> None:
        """``torch.compile`` (``options`` as its keyword arguments, e.g. ``mode='max-autotune'``) this instance's
        ``encode_dense``, ``encode_image`` and ``forward_features``: the fused kernels remove most of the elementwise
        and launch time of RoPE, SwiGLU and the norms on GPU. Weights and state dict are unchanged; the first call
        at each new input shape compiles (dynamic shapes after the second). Compile after copying the model
        (``copy.deepcopy`` would copy the compiled functions bound to this instance)."""
        for name in ('encode_dense', 'encode_image', 'forward_features'):
            setattr(self, name, torch.compile(getattr(type(self), name).__get__(self), **options))
    def set_dense_mode(self, mode=None) -> None:
        """The last block of the dense path (:mod:`clipself.models.dense_mode`): ``'value'`` / None (CLIPSelf's
        attention-free block), ``'qq'`` or ``'csa'`` (DeCLIP's decoupled block) or a ``dict(kind=..., scale=...,
        rope=...)``. ``build_clip`` sets it from its ``dense_mode`` argument or the checkpoint's record."""
        mode = DenseMode.parse(mode)
        if mode.decoupled and self.tower.num_prefix_tokens == 0:
            raise ValueError(f'dense_mode {mode} replaces the last block of a CLS-token tower; {self.model_name} is a '
                             'SigLIP-style tower whose dense path replaces the attention-pooling head instead')
        variants = get_variants(self.clip.visual)
        if mode.decoupled and variants is not None and variants.conv_for(self.tower.num_blocks - 1) is not None:
            raise ValueError(f'dense_mode {mode} replaces the last block, which has a convolution branch: keep the '
                             'last block out of conv_branch.blocks')
        self.dense_mode: DenseMode = mode
        self.dense_block = dense_block(mode)

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute block activations in backward (saves memory when training the image tower)."""
        self.tower.grad_checkpointing = enable

    # -- image side -----------------------------------------------------------------------------------
    def encode_image(self, images: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """The CLS ("crop") embedding: ``[B, 3, H, W] -> [B, D]``; all blocks attend globally (SigLIP towers: the
        attention-pooled embedding).

        At the pre-training size this equals open_clip's ``encode_image``; other sizes get resized
        position encodings as in :meth:`encode_dense`.
        """
        tokens, _, _ = self.tower.forward_tokens(images, dense=False)
        x = self.tower.pool(tokens)  # shape: [B, D]; the CLS token's head (SigLIP: attention pooling)
        return F.normalize(x, dim=-1) if normalize else x

    def encode_dense(self, images: torch.Tensor, normalize: bool = True, *, last_block=None) -> torch.Tensor:
        """Dense features: ``[B, 3, H, W] -> [B, D, H // p, W // p]``.

        Blocks 0..L-2 attend globally; the last block runs without query-key attention (or as the decoupled block
        of :attr:`dense_mode`); the CLS token is dropped and the final norm + projection apply to every patch token.
        SigLIP towers (no CLS token): every block attends and the attention-pooling head runs without attention on
        every token (:mod:`clipself.models.siglip`). Remainder pixels on the right/bottom (``H % p``, ``W % p``) are
        dropped. ``last_block`` (a
        :class:`~clipself.models.last_block.LastBlock`) replaces the last block by a variant of the training-free
        segmentation literature; None (the model's :attr:`dense_mode`) is the default everywhere else.
        """
        last_block = self.dense_block if last_block is None else last_block
        tokens, (h, w), _ = self.tower.forward_tokens(images, dense=True, last_block=last_block)
        return self.dense_head(tokens[:, self.tower.num_prefix_tokens:], (h, w), normalize=normalize)

    def dense_head(self, tokens: torch.Tensor, grid_hw: Sequence[int], normalize: bool = True) -> torch.Tensor:
        """The tail of :meth:`encode_dense`: patch tokens of the dense path's last block ``[B, h*w, C]`` (CLS
        dropped, row-major) -> the final norm + projection of every token, ``[B, D, h, w]`` (L2-normalised by
        default). For callers that already ran the tower (F-ViT's backbone taps the last block)."""
        h, w = grid_hw
        x = self.tower.head(tokens)  # shape: [B, h*w, D]
        if normalize:
            x = F.normalize(x, dim=-1)
        # contiguous NCHW: mmcv's CPU RoIAlign silently misreads channels-last-strided maps
        return x.transpose(1, 2).reshape(x.shape[0], -1, h, w).contiguous()

    def forward_features(self, images: torch.Tensor, out_indices: Sequence[int],
                         dense_last: bool = True) -> List[torch.Tensor]:
        """Token maps after the given blocks, CLS dropped: a list of ``[B, C, H // p, W // p]`` (width C,
        before the final norm). With ``dense_last`` the last block is the dense path's one (:attr:`dense_mode`;
        F-ViT taps)."""
        _, (h, w), outs = self.tower.forward_tokens(images, dense=dense_last, out_indices=out_indices,
                                                    last_block=self.dense_block)
        p = self.tower.num_prefix_tokens
        return [o[:, p:].transpose(1, 2).reshape(o.shape[0], -1, h, w).contiguous() for o in outs]

    def roi_features(self, dense: torch.Tensor, boxes: Sequence[torch.Tensor], **kwargs) -> torch.Tensor:
        """:func:`clipself.models.roi_features` with this model's patch size: boxes xyxy in input pixels."""
        return roi_features(dense, boxes, patch_size=self.patch_size, **kwargs)

    def mask_pool(self, dense: torch.Tensor, masks: Sequence[torch.Tensor], **kwargs) -> torch.Tensor:
        """:func:`clipself.models.mask_pool`."""
        return mask_pool(dense, masks, **kwargs)

    # -- text side ------------------------------------------------------------------------------------
    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """``N`` strings -> ``[N, context_length]`` token ids."""
        if self.tokenizer is None:
            raise RuntimeError('this model was built without a tokenizer')
        return self.tokenizer(list(texts))

    def encode_text(self, tokens: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """``[N, L]`` token ids -> ``[N, D]``."""
        return self.clip.encode_text(tokens, normalize=normalize)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`encode_dense`."""
        return self.encode_dense(images)

    def extra_repr(self) -> str:
        mode = f', dense_mode={str(self.dense_mode)!r}' if self.dense_mode.decoupled else ''
        return f'model_name={self.model_name!r}, patch_size={self.patch_size}{mode}'
