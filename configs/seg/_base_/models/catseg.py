# CAT-Seg (Cho et al., CVPR 2024): a trained cost-aggregation head on a CLIP whose attention query/value projections
# (image and text towers) are fine-tuned. The settings of CAT-Seg's B/16 and L/14 configs (both: 2 aggregation
# layers, 128 hidden channels, window 12, class pooling 2x2 in training and none in evaluation, one prompt).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[122.771, 116.746, 104.094], std=[68.501, 66.632, 70.323],  # CLIP's normalisation, 0-255 scale
    bgr_to_rgb=True, pad_val=0, seg_pad_val=255, size=(384, 384))    # training crops are 384 px
model = dict(
    type='CATSegSegmentor',
    data_preprocessor=data_preprocessor,
    clip=dict(model_name=None, pretrained=None),     # set by the CLIP's base (catseg_{eva02-b16,...}.py)
    classes='catseg-coco-stuff',                     # test vocabulary: the evaluation configs set theirs
    train_classes='catseg-coco-stuff',               # COCO-Stuff's 171 classes, CAT-Seg's names
    templates=['A photo of a {} in the scene'],      # CAT-Seg's single prompt
    clip_size=384,                                   # the CLIP input: a 24x24 grid for B/16
    guidance_blocks=(3, 7),                          # the ViT blocks that guide the decoder (B/16)
    finetune='attention',                            # query/value projections + position embeddings
    head=dict(hidden_dim=128, appearance_dim=128, text_dim=128, num_heads=4, window_size=12, pooling=(2, 2),
              test_pooling=(1, 1), num_layers=2, decoder_dims=(64, 32), guidance_dims=(256, 128),
              guidance_proj_dims=(32, 16), max_classes=256),
    # CAT-Seg's evaluation: the image at 640x640, 384 px windows every 256 px plus the whole image at 384
    test_cfg=dict(mode='slide_global', canvas=640, crop=384, stride=256),
)
