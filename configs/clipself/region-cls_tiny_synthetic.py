# Zero-shot region classification end to end on generated panoptic scenes (8 shape things + 2 texture stuff
# classes) with a tiny EVA02-style CLIP: CPU, seconds, no data, no weights.
#   python tools/test.py configs/clipself/region-cls_tiny_synthetic.py random          # random weights
#   python tools/test.py configs/clipself/region-cls_tiny_synthetic.py work_dirs/clipself_tiny_synthetic/exported/epoch_3.safetensors
# The scenes are generated into data_root on first use (COCO panoptic json + RGB-id PNGs) and read by the
# same loader as COCO.
_base_ = ['_base_/region_cls_runtime.py', '_base_/datasets/coco_panoptic_regions.py']

model = dict(
    type='CLIPRegionClassifier',
    clip=dict(model_name='EVA02-Tiny-8', pretrained=None),
    class_embeddings=None,
    templates='vild',
    cache_dir='work_dirs/text_cache',
)
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    dataset=dict(
        generate=dict(num_images=24, seed=1, size=(192, 192), num_objects=(0, 4)),
        data_root='data/synthetic_regions/',
        ann_file='annotations/panoptic.json',
        img_dir='images/',
        seg_dir='annotations/panoptic/',
        dense_size=128,
        crop_size=64,
    ),
)
test_dataloader = val_dataloader
default_hooks = dict(logger=dict(interval=2))
