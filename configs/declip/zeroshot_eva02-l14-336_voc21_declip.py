# Training-free open-vocabulary segmentation (PASCAL VOC 21) with the DeCLIP-style EVA02-CLIP L/14-336 export (the
# decoupled last block it records runs as the dense path).
#   python tools/test.py configs/declip/zeroshot_eva02-l14-336_voc21_declip.py \
#       work_dirs/declip_eva02-l14-336_coco-patches_6e_dinov2-l/exported/epoch_6.safetensors
_base_ = ['../seg/zeroshot_eva02-l14-336_voc21.py']
model = dict(clip=dict(
    pretrained='work_dirs/declip_eva02-l14-336_coco-patches_6e_dinov2-l/exported/epoch_6.safetensors'))
