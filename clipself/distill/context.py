"""DeCLIP's context distillation: the patch-to-patch affinity of the student's context features pulled toward a
teacher's (Wang et al., "DeCLIP: Decoupled Learning for Open-Vocabulary Dense Perception", CVPR 2025).

- Student: the context features of the decoupled last block (:mod:`clipself.models.dense_mode`): the per-token
  queries (``'qq'``), or queries and keys (``'csa'``), heads concatenated, CLS dropped. Its affinity is the cosine
  similarity of every pair of patches, ``A_s[b, i, j] = cos(q_i, q_j)`` (``'csa'``: the mean of the q and k
  affinities).
- Teachers (:func:`build_context_teacher`), each giving ``A_t [B, h*w, h*w]`` on the student's grid:

  * ``dict(type='self', block=b)``: the frozen CLIP's own patch affinity after block ``b`` (0-based; negative
    counts from the end): the cosine similarity of the residual-stream tokens that block ``b`` outputs, CLS
    dropped, run on the student's input at the student's resolution (all blocks attend globally). Needs no other
    model; intermediate blocks of CLIP keep spatial correlations that its last blocks lose (DeCLIP's "proxy
    token" observation), so a middle block is the sensible choice.
  * ``dict(type='dinov2', arch='vit_base_patch14_reg4_dinov2', weights='checkpoints/....pth')``: a DINOv2 ViT
    through timm with weights from a local file (timm's own layout or the original DINOv2 release; never
    downloaded), run on the student's input resized to the resolution that gives it the student's grid
    (``grid * 14`` px), ImageNet mean/std; its last-layer tokens after the final norm, CLS and register tokens
    dropped (DeCLIP uses ``vit_base_patch14_reg4_dinov2`` for B/16 and ``vit_large_patch14_reg4_dinov2`` for L/14).

- Loss: ``loss_context = mean over images and rows i of || A_t[b, i, :] - A_s[b, i, :] ||_2`` (weighted 0.1 by
  DeCLIP beside the content loss, CLIPSelf's ``loss_cosine``).

Plain PyTorch + timm; no mm* imports.
"""
import os
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.checkpoint import CheckpointError
from ..models.dense_clip import DenseCLIP

TEACHERS = ('self', 'dinov2')
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def cosine_affinity(features: torch.Tensor) -> torch.Tensor:
    """``[B, N, C]`` -> ``[B, N, N]``: the cosine similarity of every pair of tokens."""
    f = F.normalize(features.float(), dim=-1)
    return f @ f.transpose(1, 2)


def student_affinity(context: Sequence[torch.Tensor]) -> torch.Tensor:
    """The mean cosine affinity ``[B, N, N]`` of the context features (one ``[B, N, C]`` per part: q, or q and k)."""
    if not len(context):
        raise ValueError('no context features: the context loss needs a decoupled dense mode (qq, csa)')
    return sum(cosine_affinity(c) for c in context) / len(context)


def context_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """``mean_{b, i} || teacher[b, i] - student[b, i] ||_2`` of two affinities ``[B, N, N]`` (a scalar)."""
    if student.shape != teacher.shape:
        raise ValueError(f'student affinity {tuple(student.shape)} and teacher affinity {tuple(teacher.shape)} '
                         'differ: the teacher must see the student\'s grid')
    return (teacher - student).norm(p=2, dim=-1).mean()


class SelfAffinityTeacher(nn.Module):
    """The frozen CLIP's patch affinity after one of its blocks (see the module docstring).

    Args:
        clip: the frozen CLIP (CLIPSelf's teacher); it is not copied and holds no state here.
        block: block index, ``-num_blocks <= block < num_blocks``.
    """

    def __init__(self, *, clip: DenseCLIP, block: int):
        super().__init__()
        n = clip.tower.num_blocks
        if not isinstance(block, int) or not -n <= block < n:
            raise ValueError(f'context teacher block {block!r} is outside the {n} blocks of {clip.model_name} '
                             f'(use 0..{n - 1}, or negative from the end)')
        object.__setattr__(self, 'clip', clip)  # not a submodule: its weights belong to CLIPSelf's teacher
        self.block = block % n

    def extra_repr(self) -> str:
        return f'block={self.block}'

    @torch.no_grad()
    def forward(self, images: torch.Tensor, grid: Tuple[int, int], patch_size: Sequence[int] = ()) -> torch.Tensor:
        """``images [B, 3, H, W]`` uint8 or float 0-1 pixels (the student's input, at the student's size) ->
        ``[B, h*w, h*w]`` (``patch_size``: unused, the CLIP is the student's own architecture)."""
        tower = self.clip.tower
        x, got, ctx = tower.embed(self.clip.normalize_pixels(images))  # shape: [B, 1 + h*w, C]
        if tuple(got) != tuple(grid):
            raise ValueError(f'teacher grid {got} differs from the student grid {grid}')
        for i in range(self.block + 1):  # global attention in every block, as the CLIP was trained
            x = tower.block(i, x, ctx)
        return cosine_affinity(x[:, 1:])


class DINOv2Teacher(nn.Module):
    """A DINOv2 ViT from timm with local weights (see the module docstring). Always frozen and in eval mode.

    Args:
        arch: a timm DINOv2 architecture (``vit_base_patch14_reg4_dinov2``, ``vit_large_patch14_reg4_dinov2``, ...).
        weights: path of its weights: timm's state dict (``.safetensors`` / ``.bin`` / ``.pth``) or the original
            DINOv2 release file (``dinov2_vitb14_reg4_pretrain.pth``). None only with ``allow_random=True`` (tests).
        model_kwargs: extra ``timm.create_model`` arguments (tests build a tiny one: ``dict(depth=2, embed_dim=32)``).
        allow_random: keep random weights when ``weights`` is None (tests only).
    """

    def __init__(self, *, arch: str = 'vit_base_patch14_reg4_dinov2', weights: Optional[str] = None,
                 model_kwargs: Optional[dict] = None, allow_random: bool = False):
        super().__init__()
        import timm
        if 'dinov2' not in arch or arch not in timm.list_models('*dinov2*'):
            raise ValueError(f'context teacher arch {arch!r} is not a timm DINOv2 model: use one of '
                             f'{", ".join(timm.list_models("*dinov2*"))}')
        if weights is None and not allow_random:
            raise ValueError(f'the {arch} context teacher needs weights=<local file> (never downloaded): e.g. '
                             "timm's model.safetensors or the DINOv2 release's .pth, under checkpoints/")
        self.arch = arch
        self.model = timm.create_model(arch, pretrained=False, num_classes=0, dynamic_img_size=True,
                                       **(model_kwargs or {}))
        if weights is not None:
            self._load(os.fspath(weights))
        self.model.requires_grad_(False)
        self.eval()
        self.patch_size = int(self.model.patch_embed.patch_size[0])

    def _load(self, path: str) -> None:
        from timm.models.vision_transformer import checkpoint_filter_fn
        if not os.path.isfile(path):
            raise FileNotFoundError(f'context teacher weights not found: {path} (put the {self.arch} weights there; '
                                    'clipself never downloads them)')
        try:
            if path.endswith('.safetensors'):
                from safetensors.torch import load_file
                sd = load_file(path)
            else:
                sd = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as e:
            raise CheckpointError(f'cannot read context teacher weights {path}: {type(e).__name__}: {e}') from e
        if isinstance(sd, dict) and isinstance(sd.get('teacher'), dict):  # a DINOv2 training checkpoint
            sd = {k[len('backbone.'):]: v for k, v in sd['teacher'].items() if k.startswith('backbone.')}
        if not isinstance(sd, dict) or not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
            raise CheckpointError(f'{path} does not hold a state dict of tensors')
        try:
            sd = checkpoint_filter_fn(sd, self.model)
            self.model.load_state_dict(sd, strict=True)
        except (RuntimeError, KeyError, ValueError) as e:
            raise CheckpointError(f'context teacher weights {path} do not fit {self.arch}: is it a file of another '
                                  f'architecture? ({str(e).splitlines()[0][:300]} ...)') from e

    def train(self, mode: bool = True):
        super().train(mode)
        self.model.eval()
        return self

    @torch.no_grad()
    def forward(self, images: torch.Tensor, grid: Tuple[int, int], patch_size: Sequence[int]) -> torch.Tensor:
        """``images [B, 3, H, W]`` uint8 or float 0-1 pixels (the student's input, student patch ``patch_size``)
        -> ``[B, h*w, h*w]`` on the student's ``grid``: the pixels the student's grid covers, resized to
        ``(h * 14, w * 14)``."""
        h, w = grid
        x = images.float() / 255.0 if not images.is_floating_point() else images.float()
        x = x[..., :h * patch_size[0], :w * patch_size[1]]  # the student drops remainder pixels
        x = F.interpolate(x, size=(h * self.patch_size, w * self.patch_size), mode='bilinear',
                          align_corners=False, antialias=True)  # shape: [B, 3, 14h, 14w]
        mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=x.device).view(3, 1, 1)
        tokens = self.model.forward_features((x - mean) / std)  # shape: [B, prefix + h*w, C], final norm applied
        return cosine_affinity(tokens[:, self.model.num_prefix_tokens:])


def build_context_teacher(cfg: dict, clip: DenseCLIP) -> nn.Module:
    """A teacher from its config: ``dict(type='self', block=6)`` (``clip``: the frozen CLIP) or
    ``dict(type='dinov2', arch=..., weights=...)``."""
    cfg = dict(cfg)
    kind = cfg.pop('type', None)
    if kind == 'self':
        if 'block' not in cfg:
            raise ValueError("context teacher type 'self' needs block=<index of the CLIP block whose tokens give the "
                             'affinity>')
        return SelfAffinityTeacher(clip=clip, **cfg)
    if kind == 'dinov2':
        return DINOv2Teacher(**cfg)
    raise ValueError(f'context teacher type must be one of {TEACHERS}, got {kind!r}')
