# COCO train2017 images with pseudo-labelled boxes naming nouns, for the RegionCLIP-style baseline: the reference's
# coco_pseudo_4764.json (a COCO instances json: 4764 noun categories, boxes as annotations; docs/regionclip.md).
# Loader, data_root and the evaluation-overlap files as the CLIPSelf COCO set.
_base_ = ['./coco_distill.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RegionNounDataset',
        data_root={{_base_.data_root}},
        ann_file='coco_pseudo_4764.json',
        img_dir='train2017/',
        student_size=1024,           # dense size: 1024 (B/16), 896 (L/14-336)
        max_boxes=20,                # the first 20 boxes of an image, in file order
        nouns=None,                  # the model's noun_embeddings: checks that its rows are the file's nouns
    ),
)
