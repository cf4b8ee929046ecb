# COCO train2017 images for CLIPSelf (images listed in the instances json; no labels are used).
data_root = 'data/coco/'
# Downstream evaluation sets of the distilled CLIP: the run warns when its training images are among theirs
# (LVIS v1 val holds COCO train2017 images; absent files are skipped).
eval_ann_files = ['data/lvis_v1/annotations/lvis_v1_val.json']
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='CLIPSelfDataset',
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        img_dir='train2017/',
        sampler='grid',              # 'proposals' needs proposal_file
        proposal_file=None,
        student_size=1024,           # dense size: 1024 (B/16), 896 (L/14-336)
        crop_size=224,               # teacher size: 224 (B/16), 336 (L/14-336)
        max_boxes=20, max_split=6, min_size=8, max_size=1024, crop_scale=1.5,
    ),
)
