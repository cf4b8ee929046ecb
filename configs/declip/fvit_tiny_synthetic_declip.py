# The tiny synthetic F-ViT on the CLIP that declip_tiny_synthetic.py exports (decoupled last block, recorded in the
# file).  python tools/train.py configs/declip/declip_tiny_synthetic.py   (then)
#        python tools/train.py configs/declip/fvit_tiny_synthetic_declip.py
_base_ = ['../fvit/fvit_tiny_synthetic.py']
model = dict(backbone=dict(pretrained='work_dirs/declip_tiny_synthetic/exported/epoch_3.safetensors'))
