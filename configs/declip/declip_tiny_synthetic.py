# DeCLIP-style distillation end to end on generated scenes with a tiny random EVA02-style CLIP (CPU, under a
# minute, no data, no weights): the decoupled last block ('qq') and the context loss toward the frozen CLIP's own
# token affinity after block 1.  python tools/train.py configs/declip/declip_tiny_synthetic.py
_base_ = ['../clipself/clipself_tiny_synthetic.py']

model = dict(
    clip=dict(dense_mode='qq'),
    context_teacher=dict(type='self', block=1),
    loss_context_weight=0.1,
)
