"""Uniform fake quantisation (quantise -> dequantise in float) of linear layers: weights symmetric per output
channel, input activations asymmetric per tensor with calibrated scale and zero point.

:mod:`clipself.quant` calibrates and chooses bit widths; ``build_clip`` re-applies a quantised file's activation
quantisers (recorded in its metadata) with :func:`apply_quantization`.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

BITS = (4, 6, 8)


def check_bits(bits, name: str = 'bits') -> int:
    """One of :data:`BITS`, or a ``ValueError`` naming ``name``."""
    if bits not in BITS or isinstance(bits, bool):
        raise ValueError(f'{name} must be one of {list(BITS)}, got {bits!r}')
    return int(bits)


def quantize_weight(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Symmetric per-output-channel fake quantisation of ``w [out, in]`` (scale ``max|w_row| / (2^(b-1) - 1)``)."""
    qmax = 2 ** (bits - 1) - 1
    scale = (w.abs().amax(dim=1, keepdim=True) / qmax).clamp(min=1e-12)  # shape: [out, 1]
    return (w / scale).round().clamp(-qmax - 1, qmax) * scale


def activation_params(lo: float, hi: float, bits: int, ratio: float = 1.0):
    """``(scale, zero_point)`` of an asymmetric per-tensor quantiser for values in ``[lo, hi]``; ``ratio < 1``
    shrinks the step (clipping the range's ends: OPT-m's searched ratio)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = max(ratio * (hi - lo) / (2 ** bits - 1), 1e-12)
    zero = round(-lo / scale)
    return scale, zero


def quantize_activation(x: torch.Tensor, scale: float, zero: int, bits: int) -> torch.Tensor:
    """Asymmetric per-tensor fake quantisation: ``(clamp(round(x / s) + z, 0, 2^b - 1) - z) * s``."""
    return ((x / scale).round() + zero).clamp(0, 2 ** bits - 1).sub(zero).mul(scale)


class QuantLinear(nn.Linear):
    """An ``nn.Linear`` (same parameters and state-dict keys) whose weight is fake-quantised to ``bits`` per output
    channel and whose input is fake-quantised per tensor with ``act_scale`` / ``act_zero``.

    ``weight_fp`` (not state) keeps the float weight while bit widths are being searched; :meth:`set_bits`
    re-quantises from it. With ``enabled = False`` the layer is the float one (calibration passes).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, bits: int = 8,
                 act_scale: Optional[float] = None, act_zero: int = 0):
        super().__init__(in_features, out_features, bias=bias, device='meta')  # parameters come from a linear
        self.bits = check_bits(bits)
        self.act_scale, self.act_zero = act_scale, int(act_zero)
        self.enabled = True
        self.weight_fp: Optional[torch.Tensor] = None

    @classmethod
    def from_linear(cls, linear: nn.Linear, *, bits: int = 8) -> 'QuantLinear':
        """Wrap ``linear``'s own parameters (no copy); the float weight is kept for :meth:`set_bits`."""
        q = cls(linear.in_features, linear.out_features, bias=linear.bias is not None, bits=bits)
        q.weight, q.bias = linear.weight, linear.bias
        q.weight_fp = linear.weight.detach().clone()
        return q

    @torch.no_grad()
    def set_bits(self, bits: int) -> None:
        self.bits = check_bits(bits)
        if self.weight_fp is not None:
            self.weight.copy_(quantize_weight(self.weight_fp, self.bits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            w = self.weight_fp if self.weight_fp is not None else self.weight
            return F.linear(x, w, self.bias)
        if self.act_scale is None:
            raise RuntimeError('QuantLinear has no calibrated activation scale')
        return F.linear(quantize_activation(x, self.act_scale, self.act_zero, self.bits), self.weight, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f', bits={self.bits}, act_scale={self.act_scale}, act_zero={self.act_zero}'


def set_submodule(root: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition('.')
    setattr(root.get_submodule(parent) if parent else root, child, module)


def apply_quantization(visual: nn.Module, spec: dict) -> None:
    """Re-apply a quantisation spec (``{'layers': {name: dict(bits, act_scale, act_zero)}}``, names relative to
    the open_clip ``visual``) to a tower whose weights were loaded from the quantised file (already quantised and
    SQ-b-folded there): the linears become :class:`QuantLinear` with those activation quantisers."""
    layers = spec.get('layers') if isinstance(spec, dict) else None
    if not layers:
        raise ValueError('quantisation spec without layers')
    for n, cfg in layers.items():
        try:
            lin = visual.get_submodule(n)
        except AttributeError:
            lin = None
        if not isinstance(lin, nn.Linear):
            raise ValueError(f'quantisation spec names {n!r}, which is not a linear layer of this image tower')
        q = QuantLinear(lin.in_features, lin.out_features, bias=lin.bias is not None, bits=cfg['bits'],
                        act_scale=float(cfg['act_scale']), act_zero=int(cfg['act_zero']))
        q.weight, q.bias = lin.weight, lin.bias
        set_submodule(visual, n, q)
