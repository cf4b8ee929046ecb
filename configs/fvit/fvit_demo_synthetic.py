# F-ViT in `make demo`'s generated world (clipself/demo/): the demo's pre-trained tiny EVA02-CLIP
# (EVA02-Small-8: 6 blocks of width 128, patch 8, embedding 64) frozen, on 192 px scenes of coloured shapes on
# textured backgrounds; 'star' and 'ring' are novel (never in the training boxes). Unlike fvit_tiny_synthetic.py
# the classes are the CLIP's own text embeddings (ViLD prompt ensemble) and the test-time ensemble with the
# CLIP's dense map is on, so novel boxes can only be named through the CLIP: this is where a distilled backbone
# shows. The demo passes the CLIP file (original or distilled) and the data sizes:
#   python tools/train.py configs/fvit/fvit_demo_synthetic.py \
#       --cfg-options model.backbone.pretrained=assets/demo_clip_eva02-small-8.safetensors
_base_ = ['fvit_tiny_synthetic.py']
classes = {{_base_.classes}}
width, dim, patch, fpn = 128, 64, 8, 64
image_size = (192, 192)
norm_cfg = dict(type='BN', requires_grad=True)
# The pyramid drops the paper's p/4 level: at patch 8 it is a 96 x 96 map (stride 2 px) that held most of the
# detector's cost, and its smallest anchors (8 px) match none of the 28-76 px shapes. Strides 4..64 px instead.
scale_factors = (2.0, 1.0, 0.5, 0.25)
strides = [patch / f for f in scale_factors] + [patch * 8]
model = dict(
    data_preprocessor=dict(fixed_size=image_size, pad_size_divisor=4 * patch),
    backbone=dict(model_name='EVA02-Small-8', pretrained='assets/demo_clip_eva02-small-8.safetensors',
                  out_indices=[1, 2, 3, 5]),
    neck=[  # lists replace the base's whole
        dict(type='SimpleFeaturePyramid', in_channels=width, norm_cfg=norm_cfg, scale_factors=scale_factors),
        dict(type='FPN', in_channels=[width] * 4, out_channels=fpn, num_outs=5, norm_cfg=norm_cfg),
    ],
    rpn_head=dict(anchor_generator=dict(scales=[4], strides=strides)),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides=strides[:4]),
        bbox_head=dict(
            classifier=dict(_delete_=True, type='TextEmbeddingClassifier', embeddings=None, class_names=classes,
                            background='learned', temperature=50.0, learn_temperature=True),
            ensemble=True)),
)
data_root = 'data/synthetic_fvit_demo/'
generate = dict(num_images=320, seed=0, size=image_size, object_size=(28, 76), num_objects=(1, 4),
                novel=['ring', 'star'], val_images=80)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(batch_size=4, dataset=dict(data_root=data_root, generate=generate))
val_dataloader = dict(dataset=dict(data_root=data_root, generate=generate, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'val/annotations/ov_val.json')
test_evaluator = val_evaluator
max_epochs = 2   # the demo's budget: 2 x ~80 iterations
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
