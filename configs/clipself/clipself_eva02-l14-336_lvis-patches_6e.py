# CLIPSelf on EVA02-CLIP ViT-L/14-336, image patches, LVIS v1 train images, 6 epochs, 8 GPUs x 2 images: the CLIP
# of the L/14 OV-LVIS F-ViT configs (the reference's scripts/train_clipself_lvis_image_patches_eva_vitl14.sh).
_base_ = ['./clipself_eva02-l14-336_coco-patches_6e.py']

train_dataloader = dict(dataset=dict(data_root='data/lvis_v1/', ann_file='annotations/lvis_v1_train.json', img_dir=''))
