"""Which CLIP weights a CAT-Seg model fine-tunes: the attention query and value projections of both towers
(CAT-Seg's ``CLIP_FINETUNE: attention``) and, as its code does, the position embeddings."""
import logging
from functools import partial
from typing import List, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log


def _zero_key_rows(grad: torch.Tensor, width: int) -> torch.Tensor:
    grad = grad.clone()
    grad[width:2 * width] = 0  # fused [q; k; v] rows: the key projection stays as it is
    return grad


def train_query_value(clip: nn.Module, *, position: bool = True, no_query: Sequence[nn.Module] = ()) -> List[str]:
    """Freeze ``clip`` except the query and value projections of every attention (image and text towers) and,
    with ``position``, the position embeddings. Returns the names of the trainable parameters.

    ``no_query``: attention modules whose separate query projection stays frozen (the image tower's last block, which
    the dense path runs without attention: a trainable weight without gradient would stop DDP).

    Fused projections (``nn.MultiheadAttention.in_proj_weight/bias``: OpenAI image towers and every open_clip text
    tower; a timm ``EvaAttention`` with fused ``qkv``) train as a whole tensor whose key rows get a zero gradient
    (a tensor hook); give them no weight decay (``paramwise_cfg`` ``decay_mult=0`` for ``in_proj`` / ``attn.qkv``)
    so that AdamW leaves the key rows exactly unchanged. Separate projections (EVA02 image towers: ``q_proj``,
    ``v_proj``) simply train.
    """
    clip.requires_grad_(False)
    trainable = []

    def train(param: nn.Parameter, name: str):
        param.requires_grad_(True)
        trainable.append(name)

    for mname, module in clip.named_modules():
        prefix = mname + '.' if mname else ''
        if isinstance(module, nn.MultiheadAttention):
            if module.in_proj_weight is None:
                if module not in no_query:
                    train(module.q_proj_weight, prefix + 'q_proj_weight')
                train(module.v_proj_weight, prefix + 'v_proj_weight')
            else:
                train(module.in_proj_weight, prefix + 'in_proj_weight')
                module.in_proj_weight.register_hook(partial(_zero_key_rows, width=module.embed_dim))
            if module.in_proj_bias is not None:
                train(module.in_proj_bias, prefix + 'in_proj_bias')
                module.in_proj_bias.register_hook(partial(_zero_key_rows, width=module.embed_dim))
        elif type(module).__name__ == 'EvaAttention':
            if getattr(module, 'qkv', None) is not None:
                train(module.qkv.weight, prefix + 'qkv.weight')
                module.qkv.weight.register_hook(partial(_zero_key_rows, width=module.qkv.weight.shape[0] // 3))
                for b in ('q_bias', 'v_bias'):
                    if getattr(module, b, None) is not None:
                        train(getattr(module, b), prefix + b)
            else:
                for proj in (module.v_proj,) if module in no_query else (module.q_proj, module.v_proj):
                    for pname, p in proj.named_parameters():
                        train(p, f'{prefix}{"q_proj" if proj is module.q_proj else "v_proj"}.{pname}')
    if position:
        for name, p in clip.named_parameters():
            if name.endswith('positional_embedding') or name.endswith('trunk.pos_embed'):
                train(p, name)
    if not trainable:
        raise ValueError(f'found no attention projections to fine-tune in {type(clip).__name__}')
    count = sum(p.numel() for p in clip.parameters() if p.requires_grad)
    print_log(f'CLIP fine-tuning: {len(trainable)} tensors, {count / 1e6:.2f} M parameters (query/value projections'
              f'{" and position embeddings" if position else ""})', logger='current', level=logging.INFO)
    return trainable
