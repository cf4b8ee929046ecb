"""Mixed-precision post-training quantisation of a CLIP image tower, after MPTQ-ViT (Tai et al., arXiv
2401.14895; the paper has no public code: this follows its method description), with fake quantisation.

1. **SQ-b** (SmoothQuant with a bias): for linears fed by a LayerNorm, per input channel ``j`` a shift
   ``z_j = (max_j + min_j) / 2`` centres the calibrated activation range and a scale
   ``s_j = r_j^a / max_i |W_ij|^(1 - a)`` (``r_j`` the centred half-range, ``a = 0.5``) moves range from
   activations to weights. Both fold into the LayerNorm (``gamma / s``, ``(beta - z) / s``) and the linears
   (``W diag(s)``, ``b + W z``): the float function is unchanged. A group where a linear has no bias (EVA's
   ``k_proj``) gets the scales only (adding a bias would change the checkpoint's keys).
2. **OPT-m**: for post-activation inputs (GELU / SiLU outputs: long positive tails), the activation step is
   ``ratio x range / (2^b - 1)`` with the ratio searched on a grid to minimise the layer's output error on the
   calibration inputs.
3. **Greedy MP**: every layer starts at 8 bits (weights and input activations); the sensitivity of each layer at
   6 and 4 bits (the mean ``1 - cos`` of the tower's outputs against the float model with only that layer
   lowered) is measured once; then the layer whose next lower width costs the least sensitivity per byte saved is
   lowered, until the tower fits the size budget.

Weights: symmetric per output channel; activations: asymmetric per tensor (calibrated min / max).
"""
import logging
from typing import Callable, Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.dense_clip import DenseCLIP
from ..models.fake_quant import BITS, QuantLinear, activation_params, check_bits, quantize_activation, set_submodule
from .layers import LayerGroup, tower_groups

logger = logging.getLogger(__name__)
RATIOS = (1.0, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4)
MAX_SAMPLE_ROWS = 4096  # calibration rows kept per post-activation layer for OPT-m's search


class _Recorder:
    """Forward pre-hooks: per-channel and per-tensor min / max of each watched layer's input (and, for some,
    a row sample)."""

    def __init__(self, modules: Dict[str, nn.Module], *, sample: Sequence[str] = ()):
        self.lo, self.hi, self.rows = {}, {}, {n: [] for n in sample}
        self.handles = [m.register_forward_pre_hook(self._hook(n)) for n, m in modules.items()]

    def _hook(self, name):
        def hook(module, args):
            x = args[0].detach().reshape(-1, args[0].shape[-1])
            lo, hi = x.amin(0), x.amax(0)
            self.lo[name] = lo if name not in self.lo else torch.minimum(self.lo[name], lo)
            self.hi[name] = hi if name not in self.hi else torch.maximum(self.hi[name], hi)
            if name in self.rows and sum(len(r) for r in self.rows[name]) < MAX_SAMPLE_ROWS:
                self.rows[name].append(x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:1024]])
        return hook

    def remove(self):
        for h in self.handles:
            h.remove()


@torch.no_grad()
def _fold_sqb(group: LayerGroup, lo: torch.Tensor, hi: torch.Tensor, alpha: float) -> None:
    """SQ-b: fold the shift and scales into the group's LayerNorm and linears (float function unchanged)."""
    norm = group.modules[group.norm]
    linears = [group.modules[n] for n in group.linears]
    shift = (hi + lo) / 2 if all(m.bias is not None for m in linears) else torch.zeros_like(lo)
    half = ((hi - lo) / 2).clamp(min=1e-5)
    w_max = torch.stack([m.weight.abs().amax(0) for m in linears]).amax(0).clamp(min=1e-5)  # shape: [in]
    s = (half.pow(alpha) / w_max.pow(1 - alpha)).clamp(min=1e-5)
    for m in linears:
        if m.bias is not None:
            m.bias.add_(m.weight @ shift)
        m.weight.mul_(s)
    norm.bias.sub_(shift).div_(s)
    norm.weight.div_(s)


def _distance(a: List[torch.Tensor], b: List[torch.Tensor]) -> float:
    """Mean ``1 - cos`` over the outputs' last dimension."""
    return float(torch.stack([(1 - F.cosine_similarity(x, y, dim=-1)).mean() for x, y in zip(a, b)]).mean())


def tower_bytes(tower_visual: nn.Module, bits: Dict[str, int]) -> int:
    """Image-tower size: quantised linears' weights at their bit widths, every other parameter in fp32."""
    total = 0
    for name, p in tower_visual.named_parameters():
        layer = name.rsplit('.', 1)[0]
        total += p.numel() * (bits[layer] if layer in bits and name.endswith('weight') else 32) // 8
    return total


@torch.no_grad()
def quantize_clip(model: DenseCLIP, calibrate: Callable[[DenseCLIP], List[torch.Tensor]], *,
                  bits: Union[int, str] = 8, budget_mb: Optional[float] = None, smooth_alpha: float = 0.5) -> dict:
    """Quantise ``model``'s image tower in place (SQ-b, OPT-m, and bit widths fixed or by Greedy MP).

    Args:
        calibrate: runs the model on the calibration images and returns its outputs (e.g. ``encode_image`` of
            crops and ``encode_dense`` of scenes): both the statistics and the sensitivities come from it.
        bits: 8, 6, 4 for every layer, or ``'mixed'`` (Greedy MP under ``budget_mb``).
        budget_mb: the image tower's size budget in MB (2^20 bytes) for ``'mixed'``.
    Returns:
        the spec (``{'layers': {name: dict(bits, act_scale, act_zero)}, ...}``) that
        :func:`apply_quantization` re-applies to a loaded model.
    """
    if bits != 'mixed':
        check_bits(bits)
    elif budget_mb is None:
        raise ValueError("bits='mixed' needs budget_mb")
    model.eval()
    visual = model.clip.visual
    groups = tower_groups(model.tower)
    reference = calibrate(model)
    if not reference or not all(len(r) for r in reference):
        raise ValueError('the calibration set is empty')

    # 1. SQ-b: per-channel input ranges of the LayerNorm-fed groups, folded
    leaders = {g.linears[0]: g for g in groups if g.norm is not None}
    rec = _Recorder({n: visual.get_submodule(n) for n in leaders})
    calibrate(model)
    rec.remove()
    for name, g in leaders.items():
        _fold_sqb(g, rec.lo[name], rec.hi[name], smooth_alpha)
    folded = calibrate(model)
    logger.info('SQ-b folded into %d LayerNorms (float change: 1 - cos = %.2e)', len(leaders),
                _distance(folded, reference))

    # 2. quantisers on every linear, input ranges of the (folded) float model
    names = [n for g in groups for n in g.linears]
    post = {n for g in groups if g.post_activation for n in g.linears}
    layers: Dict[str, QuantLinear] = {}
    for n in names:
        layers[n] = QuantLinear.from_linear(visual.get_submodule(n))
        set_submodule(visual, n, layers[n])
        layers[n].enabled = False
    rec = _Recorder(layers, sample=post)
    calibrate(model)
    rec.remove()
    ranges = {n: (float(rec.lo[n].min()), float(rec.hi[n].max())) for n in names}
    samples = {n: torch.cat(rec.rows[n]) for n in post}
    ratio_cache: Dict[tuple, float] = {}

    def configure(n: str, b: int) -> None:
        q = layers[n]
        q.set_bits(b)
        ratio = 1.0
        if n in post:  # OPT-m: the step ratio with the least output error on the sampled calibration rows
            key = (n, b)
            if key not in ratio_cache:
                x, w = samples[n], q.weight
                want = F.linear(x, q.weight_fp, q.bias)
                errs = [(F.linear(quantize_activation(x, *activation_params(*ranges[n], b, r), b), w, q.bias)
                         - want).pow(2).mean().item() for r in RATIOS]
                ratio_cache[key] = RATIOS[min(range(len(RATIOS)), key=errs.__getitem__)]
            ratio = ratio_cache[key]
        q.act_scale, q.act_zero = activation_params(*ranges[n], b, ratio)
        q.enabled = True

    # 3. bit widths
    if bits == 'mixed':
        chosen = _greedy_mp(model, calibrate, reference, layers, configure, budget_mb)
    else:
        chosen = {n: int(bits) for n in names}
    for n in names:
        configure(n, chosen[n])
        layers[n].weight_fp = None
    out = calibrate(model)
    size = tower_bytes(visual, chosen)
    logger.info('quantised %d linears (%s bits): image tower %.2f MB, 1 - cos vs float %.4f', len(names),
                bits, size / 2 ** 20, _distance(out, reference))
    return dict(method='mptq', smooth_alpha=smooth_alpha, tower_mb=size / 2 ** 20,
                distance=_distance(out, reference),
                layers={n: dict(bits=chosen[n], act_scale=layers[n].act_scale, act_zero=layers[n].act_zero)
                        for n in names})


def _greedy_mp(model, calibrate, reference, layers: Dict[str, QuantLinear], configure, budget_mb: float
               ) -> Dict[str, int]:
    visual = model.clip.visual
    names = list(layers)
    floor = tower_bytes(visual, {n: min(BITS) for n in names}) / 2 ** 20
    if budget_mb < floor:
        raise ValueError(f'budget {budget_mb:.3f} MB is below the all-{min(BITS)}-bit size of the image tower, '
                         f'{floor:.3f} MB')
    top = max(BITS)
    for n in names:
        configure(n, top)
    base = _distance(calibrate(model), reference)
    sens = {}
    for n in names:
        for b in BITS:
            if b == top:
                continue
            configure(n, b)
            sens[n, b] = _distance(calibrate(model), reference)
        configure(n, top)
    for n in names:
        sens[n, top] = base
    chosen = {n: top for n in names}
    lower = {b: max((c for c in BITS if c < b), default=None) for b in BITS}
    while tower_bytes(visual, chosen) / 2 ** 20 > budget_mb:
        best, best_cost = None, None
        for n in names:
            nb = lower[chosen[n]]
            if nb is None:
                continue
            saved = layers[n].weight.numel() * (chosen[n] - nb) / 8
            cost = (sens[n, nb] - sens[n, chosen[n]]) / saved
            if best_cost is None or cost < best_cost:
                best, best_cost = n, cost
        chosen[best] = lower[chosen[best]]
    logger.info('Greedy MP: %s', {b: sum(v == b for v in chosen.values()) for b in BITS})
    return chosen

