"""Which linear layers of an image tower are quantised, which LayerNorm feeds them (SQ-b folds into it), and
which take post-activation inputs (OPT-m searches their activation scale)."""
from dataclasses import dataclass, field
from typing import List, Optional

import torch.nn as nn

from ..models.towers import DenseTower, EvaTower


@dataclass
class LayerGroup:
    """Linear layers (names relative to the open_clip ``visual``) that read the same input. ``norm``: the
    LayerNorm that produces it (SQ-b folds into it), or None; ``post_activation``: the input is the output of a
    GELU / SiLU-gated MLP activation (OPT-m)."""
    linears: List[str]
    norm: Optional[str] = None
    post_activation: bool = False
    modules: dict = field(default_factory=dict, repr=False)


def _is_layernorm(m) -> bool:
    return isinstance(m, nn.LayerNorm) and m.elementwise_affine


def tower_groups(tower: DenseTower) -> List[LayerGroup]:
    """The quantised linears of every block of ``tower``, grouped by input.

    EVA02 (timm Eva): ``norm1 -> q/k/v_proj (+ gate)``, ``attn.norm -> proj`` (sub-LN, when there is no gate),
    ``norm2 -> fc1_g, fc1_x`` (SwiGLU) or ``fc1``, ``mlp.norm -> fc2`` (scale_mlp) else ``fc2`` post-activation.
    OpenAI-style: ``out_proj`` (input: the attention output, no norm), ``ln_2 -> c_fc``, ``c_proj``
    post-activation. ``nn.MultiheadAttention``'s fused ``in_proj_weight`` is a raw parameter the tower applies with
    ``F.linear``, not a module: it stays in float.
    """
    groups = []
    prefix = 'trunk.blocks' if isinstance(tower, EvaTower) else 'transformer.resblocks'
    for i, blk in enumerate(tower.blocks):
        p = f'{prefix}.{i}'
        if isinstance(tower, EvaTower):
            attn, mlp = blk.attn, blk.mlp
            if attn.q_proj is not None:
                qkv = [f'{p}.attn.{n}' for n in ('q_proj', 'k_proj', 'v_proj')]
                if getattr(attn, 'gate', None) is not None:
                    qkv.append(f'{p}.attn.gate')
                groups.append(LayerGroup(qkv, norm=f'{p}.norm1' if _is_layernorm(blk.norm1) else None))
            sub_ln = _is_layernorm(attn.norm) and getattr(attn, 'gate', None) is None
            groups.append(LayerGroup([f'{p}.attn.proj'], norm=f'{p}.attn.norm' if sub_ln else None))
            fc1 = ['fc1_g', 'fc1_x'] if hasattr(mlp, 'fc1_g') else ['fc1']
            groups.append(LayerGroup([f'{p}.mlp.{n}' for n in fc1],
                                     norm=f'{p}.norm2' if _is_layernorm(blk.norm2) else None))
            mlp_ln = _is_layernorm(getattr(mlp, 'norm', None))
            groups.append(LayerGroup([f'{p}.mlp.fc2'], norm=f'{p}.mlp.norm' if mlp_ln else None,
                                     post_activation=not mlp_ln))
        else:
            groups.append(LayerGroup([f'{p}.attn.out_proj']))
            groups.append(LayerGroup([f'{p}.mlp.c_fc'], norm=f'{p}.ln_2' if _is_layernorm(blk.ln_2) else None))
            groups.append(LayerGroup([f'{p}.mlp.c_proj'], post_activation=True))
    visual = tower.visual
    for g in groups:
        g.modules = {n: visual.get_submodule(n) for n in g.linears + ([g.norm] if g.norm else [])}
        bad = [n for n in g.linears if not isinstance(g.modules[n], nn.Linear)]
        if bad:
            raise TypeError(f'expected nn.Linear layers, got {bad}')
    return groups
