# The RegionCLIP-style baseline end to end on generated scenes with a tiny random EVA02-style CLIP: runs anywhere,
# on CPU, in about a minute, with no data and no weights. `python tools/train.py configs/clipself/regionclip_tiny_synthetic.py`
# The scenes, schedule and validation of clipself_tiny_synthetic.py; the generated instances json is the box file:
# its categories (the eight shapes) are the nouns and its true labels stand in for pseudo-labels; the nouns are
# embedded by the tiny CLIP's own text tower.
_base_ = ['./clipself_tiny_synthetic.py']

nouns = ['circle', 'square', 'triangle', 'diamond', 'cross', 'ring', 'bar', 'star']  # its categories, in id order
model = dict(
    _delete_=True,
    type='RegionCLIP',
    clip=dict(model_name='EVA02-Tiny-8', pretrained=None),
    noun_embeddings=nouns,
    noun_templates='single',
    max_nouns=100,
    train_blocks='all',
    alpha=0.7,
    eval_cfg={{_base_.model.eval_cfg}},
)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RegionNounDataset',
        generate={{_base_.train_dataloader.dataset.generate}},
        data_root={{_base_.data_root}},
        ann_file='annotations/instances.json',
        img_dir='images/',
        student_size=128,
        max_boxes=20,
        nouns=nouns,
    ),
)
