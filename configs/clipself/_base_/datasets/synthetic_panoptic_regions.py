# Zero-shot region classification on generated panoptic scenes (8 shape things + 2 texture stuff classes), for
# the tiny configs: generated into data_root on first use (COCO panoptic json + RGB-id PNGs), read by the same
# loader as COCO. Sizes fit the tiny towers (patch 8, pre-training size 64).
_base_ = ['./coco_panoptic_regions.py']

val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    dataset=dict(
        generate=dict(num_images=24, seed=1, size=(192, 192), num_objects=(0, 4)),  # some scenes without things
        data_root='data/synthetic_regions/',
        ann_file='annotations/panoptic.json',
        img_dir='images/',
        seg_dir='annotations/panoptic/',
        dense_size=128,
        crop_size=64,
        # clipself's own protocol choices on the generated scenes (the demo's figures were measured so)
        stuff_crop_scale=None, stuff_box_end='edge', max_segments=None,
    ),
)
test_dataloader = val_dataloader
