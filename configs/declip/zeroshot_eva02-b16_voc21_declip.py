# Training-free open-vocabulary segmentation (PASCAL VOC 21) with the DeCLIP-style EVA02-CLIP B/16 export: the
# segmentor's default last block ('maskclip': the CLIP's own dense path) runs the decoupled block the file records.
#   python tools/test.py configs/declip/zeroshot_eva02-b16_voc21_declip.py \
#       work_dirs/declip_eva02-b16_coco-patches_6e_dinov2-b/exported/epoch_6.safetensors
# Any other segmentation config runs a DeCLIP export the same way (pass the file as the checkpoint).
_base_ = ['../seg/zeroshot_eva02-b16_voc21.py']
model = dict(clip=dict(pretrained='work_dirs/declip_eva02-b16_coco-patches_6e_dinov2-b/exported/epoch_6.safetensors'))
