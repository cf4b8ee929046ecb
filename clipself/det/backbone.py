"""The frozen CLIP ViT of F-ViT: token maps after a few blocks (and the dense CLIP map for the test-time
ensemble), from any CLIP :func:`clipself.models.build_clip` builds and loads."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from mmdet.registry import MODELS

from ..models import build_clip
from ..models.frozen_precision import match_autocast


@MODELS.register_module()
class FrozenCLIPViT(BaseModule):
    """A CLIP image tower that never trains: no gradients, eval mode whatever ``train()`` is asked.

    Args:
        model_name: ``build_clip`` name (``'EVA02-B-16'``, ``'EVA02-L-14-336'``, ``'ViT-B-16'``, the tiny
            ``'EVA02-Tiny-8'`` ...).
        pretrained: any checkpoint file ``build_clip`` loads (EVA-CLIP original, released CLIPSelf file,
            our safetensors export, OpenAI); None keeps random weights (tests).
        out_indices: blocks whose outputs become the pyramid inputs, e.g. ``(3, 5, 7, 11)`` for B/16,
            ``(6, 10, 14, 23)`` for L/14. Repeats are allowed (tiny towers have 3 blocks). With
            ``dense_last`` the last block runs as in the dense path (without query-key attention, or DeCLIP's
            decoupled block: see ``tower_options``), so a tap on the last block is that block's output.
        dense_last: see above (F-ViT: True).
        tower_options: ``build_clip`` tower options the CLIP was distilled with (``residual_attention``,
            ``conv_branch``, ``window_attention``), e.g. ``dict(conv_branch=dict(blocks=[0, 1]))``. The last block of
            the dense path (``dense_mode``: CLIPSelf's attention-free block or DeCLIP's decoupled one) comes from the
            checkpoint's record; a ``dense_mode`` given here must match it.
        in_amp_dtype: under autocast (AMP) hold the CLIP in the autocast dtype (bf16/fp16) rather than casting its
            fp32 weights every call (:mod:`clipself.models.frozen_precision`; the state dict stays fp32); the
            outputs are returned in the input's dtype.
        compile: ``torch.compile`` the CLIP's encoders (True or ``torch.compile`` keyword arguments).

    The CLIP's weights (image and text towers) stay in the state dict, so a detector checkpoint is
    self-contained; they are frozen (``requires_grad=False``) and the forward runs under ``torch.no_grad``,
    so training keeps no backbone activations for backward.
    """

    def __init__(self, *, model_name: str, pretrained: Optional[str] = None,
                 out_indices: Sequence[int] = (3, 5, 7, 11), dense_last: bool = True,
                 tower_options: Optional[dict] = None, in_amp_dtype: bool = True,
                 compile: Union[bool, dict] = False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.clip = build_clip(model_name, pretrained=pretrained, **(tower_options or {}))
        self.model_name = self.clip.model_name
        self.pretrained = pretrained
        n = self.clip.tower.num_blocks
        out = [int(i) for i in out_indices]
        bad = [i for i in out if not -n <= i < n]
        if not out or bad:
            raise ValueError(f'out_indices {list(out_indices)} must name blocks of the {n}-block {model_name} tower')
        self.out_indices = tuple(i % n for i in out)
        self.dense_last = dense_last
        self.clip.requires_grad_(False)
        self.clip.eval()
        self.in_amp_dtype = in_amp_dtype
        if compile:
            self.clip.compile_encoders(**({} if compile is True else dict(compile)))

    # -- properties the detector checks its other parts against -------------------------------------------
    @property
    def width(self) -> int:
        """Channels of the tapped token maps (the tower width C)."""
        return self.clip.tower.width

    @property
    def embed_dim(self) -> int:
        """Dimension D of the CLIP embedding space (text embeddings, dense map)."""
        return self.clip.embed_dim

    @property
    def patch_size(self) -> int:
        ph, pw = self.clip.patch_size
        if ph != pw:
            raise ValueError(f'F-ViT needs square patches, {self.model_name} has {ph}x{pw}')
        return ph

    def train(self, mode: bool = True):
        """Only bookkeeping: the CLIP itself always stays in eval mode."""
        super().train(mode)
        self.clip.eval()
        return self

    def init_weights(self) -> None:
        """Nothing to initialise: the weights come from ``pretrained`` (never re-initialised by mmengine)."""
        self._is_init = True

    def forward(self, images: torch.Tensor, with_dense: bool = False
                ) -> Tuple[List[torch.Tensor], Optional[torch.Tensor]]:
        """Args:
            images: ``[B, 3, H, W]`` CLIP-normalised pixels; H, W multiples of the patch size p (the data
                preprocessor pads to them; remainder pixels would be dropped).
            with_dense: also return the dense CLIP map (test-time ensemble).
        Returns:
            ``(taps, dense)``: taps, one ``[B, C, H/p, W/p]`` map per ``out_indices`` entry (CLS dropped,
            before the final norm); dense ``[B, D, H/p, W/p]`` L2-normalised (``encode_dense``) or None.
        """
        out_dtype = images.dtype
        if self.in_amp_dtype:
            images = images.to(match_autocast(self.clip.clip, images.device.type))
        with torch.no_grad():
            unique = sorted(set(self.out_indices))
            last = self.clip.tower.num_blocks - 1
            feats = dict(zip(unique, self.clip.forward_features(images, unique, dense_last=self.dense_last)))
            dense = None
            if with_dense:
                if self.dense_last and last in feats:
                    # encode_dense's head on the tokens of the dense path's last block we already have
                    tokens = feats[last].flatten(2).transpose(1, 2)  # shape: [B, h*w, C]
                    dense = self.clip.dense_head(tokens, feats[last].shape[-2:])  # shape: [B, D, h, w]
                else:
                    dense = self.clip.encode_dense(images)
        # contiguous (NCHW) maps: forward_features returns transposed token views, and convolutions keep that
        # channels-last layout, which mmcv 2.1's RoIAlign reads as if it were NCHW (wrong features, no error)
        dense = None if dense is None else dense.to(out_dtype)
        return [feats[i].to(out_dtype).contiguous() for i in self.out_indices], dense
