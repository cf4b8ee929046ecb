# CLIPSelf on EVA02-CLIP ViT-B/16, image patches, LVIS v1 train images (~100k COCO train2017 images, none of LVIS
# val), 6 epochs, 8 GPUs x 2 images: the CLIP of the OV-LVIS F-ViT configs (the reference's
# scripts/train_clipself_lvis_image_patches_eva_vitb16.sh). LVIS names its images by COCO url
# (train2017/000000xxxxxx.jpg): link COCO's train2017/ into data/lvis_v1/.
#   tools/dist_train.sh configs/clipself/clipself_eva02-b16_lvis-patches_6e.py 8
_base_ = ['./clipself_eva02-b16_coco-patches_6e.py']

train_dataloader = dict(dataset=dict(data_root='data/lvis_v1/', ann_file='annotations/lvis_v1_train.json', img_dir=''))
