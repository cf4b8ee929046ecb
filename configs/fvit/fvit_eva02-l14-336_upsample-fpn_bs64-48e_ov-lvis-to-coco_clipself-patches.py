# Transfer: the OV-LVIS-trained F-ViT (L/14-336, CLIPSelf patches) evaluated on COCO val2017 (80 classes, box AP)
# with one CLIP weight for all classes (alpha 0.2, T_vlm 120, T_det fixed at 50) and the OV-LVIS test settings
# (score threshold 1e-4, NMS 0.5, 300 per image), as the reference's transfer configs. Test only:
#   python tools/test.py configs/fvit/fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis-to-coco_clipself-patches.py \
#       work_dirs/fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis_clipself-patches/epoch_48.pth
# Embeddings: python tools/prepare_ov_lvis.py --transfer coco --model EVA02-L-14-336 --pretrained CLIP.pt
_base_ = 'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis_clipself-patches.py'
model = dict(
    data_preprocessor=dict(pad_mask=False),
    roi_head=dict(
        mask_roi_extractor=None, mask_head=None,
        bbox_head=dict(num_classes=80, novel_classes=None, vlm_temperature=120.0, alpha=0.2,
                       classifier=dict(embeddings='data/embeddings/coco_eva02-l14-336.pt', test_temperature=50.0))),
)
test_dataloader = dict(dataset=dict(
    _delete_=True, type='OVCocoDataset', data_root='data/coco/', ann_file='annotations/instances_val2017.json',
    data_prefix=dict(img='val2017/'), test_mode=True, pipeline={{_base_.test_pipeline}}))
test_evaluator = dict(_delete_=True, type='OVCocoBoxMetric', ann_file='data/coco/annotations/instances_val2017.json',
                      novel_classes=[])
val_dataloader = test_dataloader
val_evaluator = test_evaluator
