"""The last block of the dense path: CLIPSelf's attention-free block or DeCLIP's decoupled one.

``encode_dense`` (and F-ViT's last tap, the segmentor, the region evaluation) runs blocks ``0..L-2`` as trained and
then one of these last blocks on the tokens ``x [B, 1 + h*w, C]`` (CLS first):

- ``'value'`` (the default; CLIPSelf / MaskCLIP): ``x + proj(v)``, then the block's MLP: no query-key attention;
- ``'qq'`` (DeCLIP's decoupled block): ``proj(softmax(q q^T s) v)``: no residual, no MLP;
- ``'csa'`` (DeCLIP's decoupled block with SCLIP's correlative attention):
  ``proj((softmax(q q^T s) + softmax(k k^T s)) v)``: no residual, no MLP.

The final norm and projection then apply to every token as usual. ``q, k, v`` are the block's own projections of
``norm1(x)`` per head (``[B, heads, N, head_dim]``), attention over all tokens of the grid (CLS included) and never
windowed (the dense path's last block ignores window attention, as the attention-free block always did);
``proj(.)`` merges the heads and applies the EVA02 attention sub-LN where present, the output projection and the
block's layer-scale. Two switches make the released DeCLIP EVA02 weights usable as they were trained:

- ``scale``: ``s = head_dim ** -0.5`` (True, as the block's trained attention and DeCLIP's OpenAI-CLIP code) or
  ``s = 1`` (False: DeCLIP's EVA02 code multiplies ``q q^T`` by nothing);
- ``rope``: EVA02 towers rotate q and k of the patch tokens by the grid's 2-D RoPE before the products, as the
  block's trained attention does (True), or not (False: DeCLIP's EVA02 code). No effect on towers without RoPE.

The decoupled block's "context features" (DeCLIP) are the per-token queries (and keys for ``'csa'``) that enter the
attention, heads concatenated: :meth:`DecoupledBlock.forward` returns them beside the tokens for the context loss of
:mod:`clipself.distill.context`. Plain PyTorch on the :mod:`clipself.models.towers` adapters.
"""
from dataclasses import asdict, dataclass
from typing import List, Mapping, Optional, Tuple, Union

import torch

from .last_block import block_out_proj, block_qkv
from .towers import DenseTower

DENSE_MODES = ('value', 'qq', 'csa')


@dataclass(frozen=True)
class DenseMode:
    """Which last block the dense path runs (see the module docstring).

    Args:
        kind: one of :data:`DENSE_MODES`.
        scale: multiply ``q q^T`` (and ``k k^T``) by ``head_dim ** -0.5`` (decoupled kinds only).
        rope: EVA02: rotate q and k by the grid's RoPE before the products (decoupled kinds only).
    """
    kind: str = 'value'
    scale: bool = True
    rope: bool = True

    def __post_init__(self):
        if self.kind not in DENSE_MODES:
            raise ValueError(f'unknown dense_mode {self.kind!r}: use one of {", ".join(DENSE_MODES)}')
        for name in ('scale', 'rope'):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f'dense_mode.{name} must be True or False, got {getattr(self, name)!r}')

    @property
    def decoupled(self) -> bool:
        """True for DeCLIP's blocks (``'qq'``, ``'csa'``): attention from q/k, no residual, no MLP."""
        return self.kind != 'value'

    @property
    def context_parts(self) -> Tuple[str, ...]:
        """The projections whose per-token features are the block's context features: ``('q',)``, ``('q', 'k')``."""
        return {'value': (), 'qq': ('q',), 'csa': ('q', 'k')}[self.kind]

    def to_dict(self) -> dict:
        """JSON-able form, as recorded in exported checkpoints (``'value'`` records only its kind)."""
        return asdict(self) if self.decoupled else {'kind': 'value'}

    @classmethod
    def parse(cls, spec: Union[None, str, Mapping, 'DenseMode'], *, where: str = 'dense_mode') -> 'DenseMode':
        """``None`` / ``'value'`` / ``'qq'`` / ``dict(kind='qq', scale=False, rope=False)`` / a ``DenseMode``."""
        if spec is None:
            return cls()
        if isinstance(spec, DenseMode):
            return spec
        if isinstance(spec, str):
            return cls(kind=spec)
        if isinstance(spec, Mapping):
            unknown = sorted(set(spec) - {'kind', 'scale', 'rope'})
            if unknown:
                raise ValueError(f'{where}: unknown keys {unknown}; expected kind, scale, rope')
            return cls(**dict(spec))
        raise ValueError(f'{where} must be a kind ({", ".join(DENSE_MODES)}) or a dict(kind=..., scale=..., '
                         f'rope=...), got {spec!r}')

    def __str__(self) -> str:
        if not self.decoupled:
            return self.kind
        extra = ''.join(f', {k}=False' for k in ('scale', 'rope') if not getattr(self, k))
        return self.kind if not extra else f'{self.kind}({extra[2:]})'


class DecoupledBlock:
    """DeCLIP's decoupled last block, callable as the dense path's last block
    ``(tower, i, x [B, N, C], ctx, grid) -> [B, N, C]`` (see :meth:`DenseTower.forward_tokens`)."""

    def __init__(self, mode: DenseMode):
        if not mode.decoupled:
            raise ValueError(f'DecoupledBlock needs a decoupled dense mode (qq, csa), got {mode}')
        self.mode = mode

    def __repr__(self) -> str:
        return f'DecoupledBlock({self.mode})'

    def __call__(self, tower: DenseTower, i: int, x: torch.Tensor, ctx, grid=None) -> torch.Tensor:
        return self.forward(tower, i, x, ctx)[0]

    def forward(self, tower: DenseTower, i: int, x: torch.Tensor, ctx) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """Block ``i`` on tokens ``x [B, N, C]`` (``ctx``: the tower's block context, EVA02's RoPE table).

        Returns:
            ``(tokens [B, N, C], context)``: ``context`` holds one ``[B, N, heads * head_dim]`` tensor per entry of
            ``mode.context_parts`` (q, then k), heads concatenated, CLS included (token 0).
        """
        q, k, v = block_qkv(tower, i, x, ctx if self.mode.rope else None)  # shape: [B, heads, N, d] each
        s = q.shape[-1] ** -0.5 if self.mode.scale else 1.0
        attn = ((q @ q.transpose(-2, -1)) * s).softmax(-1)  # shape: [B, heads, N, N]
        if self.mode.kind == 'csa':
            attn = attn + ((k @ k.transpose(-2, -1)) * s).softmax(-1)
        out = block_out_proj(tower, i, attn @ v)  # shape: [B, N, C]
        parts = {'q': q, 'k': k}
        context = [parts[p].transpose(1, 2).flatten(2) for p in self.mode.context_parts]  # [B, N, heads*d] each
        return out, context


def dense_block(mode: DenseMode) -> Optional[DecoupledBlock]:
    """The last-block callable of ``mode`` for ``forward_tokens`` (None: the tower's attention-free block)."""
    return DecoupledBlock(mode) if mode.decoupled else None


def unused_last_block_parameters(tower: DenseTower, mode: DenseMode) -> List[torch.nn.Parameter]:
    """Parameters of the last block that the dense path of ``mode`` never uses (they get no gradient from it):
    ``'value'``: the query/key projections; ``'qq'``: the key projection, the MLP and its norm / layer-scale;
    ``'csa'``: the MLP and its norm / layer-scale. Fused projections (OpenAI ``in_proj_weight``, EVA ``qkv``) are
    used through their V rows and count as used."""
    blk = tower.blocks[-1]
    attn = blk.attn
    names = []
    if 'q' not in mode.context_parts:
        names += ['q_proj', 'q_norm', 'q_bias']
    if 'k' not in mode.context_parts:
        names += ['k_proj', 'k_norm', 'k_bias']
    out = []
    for name in names:
        part = getattr(attn, name, None)
        if isinstance(part, torch.nn.Parameter):
            out.append(part)
        elif isinstance(part, torch.nn.Module):
            out += list(part.parameters())
    if mode.decoupled:  # no residual, no MLP
        for name in ('mlp', 'norm2', 'ln_2', 'ls_2', 'drop_path2'):
            part = getattr(blk, name, None)
            if isinstance(part, torch.nn.Module):
                out += list(part.parameters())
        if getattr(blk, 'gamma_2', None) is not None:
            out.append(blk.gamma_2)
    return out


def encode_dense_with_context(model, images: torch.Tensor,
                              normalize: bool = True) -> Tuple[torch.Tensor, List[torch.Tensor]]:
    """``model.encode_dense(images)`` and the decoupled last block's context features, from one forward.

    Args:
        model: a :class:`~clipself.models.dense_clip.DenseCLIP` with a decoupled :attr:`dense_mode`.
        images: ``[B, 3, H, W]`` normalised pixels.
    Returns:
        ``(dense [B, D, h, w], context)``: ``context`` one ``[B, h*w, heads * head_dim]`` per context part (q, then
        k), CLS dropped, row-major over the grid.
    """
    block = model.dense_block
    if block is None:
        raise ValueError(f'context features need a decoupled dense mode (qq, csa); {model.model_name} runs '
                         f'dense_mode {model.dense_mode}')
    seen = {}

    def stop_before_last(tower, i, x, ctx, grid):  # the last block's input and context, the block itself below
        seen['ctx'] = ctx
        return x

    x, grid, _ = model.tower.forward_tokens(images, dense=True, last_block=stop_before_last)
    tokens, context = block.forward(model.tower, model.tower.num_blocks - 1, x, seen['ctx'])
    dense = model.dense_head(tokens[:, 1:], grid, normalize=normalize)  # shape: [B, D, h, w]
    return dense, [c[:, 1:] for c in context]
