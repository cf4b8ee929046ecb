# The training-free segmenter: the dense map (encode_dense) of a CLIP against the class text embeddings.
# The CLIP file is model.clip.pretrained: tools/test.py CONFIG CKPT puts any CLIP file there (original or CLIPSelf).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[122.771, 116.746, 104.094], std=[68.501, 66.632, 70.323],  # CLIP's normalisation, 0-255 scale
    bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
model = dict(
    type='ZeroShotSegmentor',
    data_preprocessor=data_preprocessor,
    clip=dict(model_name=None, pretrained=None),  # set by the CLIP's base (zeroshot_{eva02-b16,...}.py)
    templates='imagenet',          # CLIP's 80 ImageNet prompts
    logit_scale=40.0,
    last_block='maskclip',         # or 'sclip', 'clearclip', 'naclip' (--cfg-options model.last_block=naclip)
    gaussian_std=5.0,              # naclip only
    text_cache_dir='work_dirs/text_cache',
    # 224 px windows, stride 112, on the resized image (short side 336 / 448 / 560 by dataset)
    test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(112, 112)),
)
