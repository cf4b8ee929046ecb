# COCO train2017 images with pseudo-labelled boxes naming nouns, for the RegionCLIP-style baseline: the reference's
# coco_pseudo_4764.json (a COCO instances json: 4764 noun categories, boxes as annotations; docs/regionclip.md).
data_root = 'data/coco/'
# Downstream evaluation sets of the distilled CLIP: the run warns when its training images are among theirs.
eval_ann_files = ['data/lvis_v1/annotations/lvis_v1_val.json']
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='RegionNounDataset',
        data_root=data_root,
        ann_file='coco_pseudo_4764.json',
        img_dir='train2017/',
        student_size=1024,           # dense size: 1024 (B/16), 896 (L/14-336)
        max_boxes=20,                # the first 20 boxes of an image, in file order
        nouns=None,                  # the model's noun_embeddings: checks that its rows are the file's nouns
    ),
)
