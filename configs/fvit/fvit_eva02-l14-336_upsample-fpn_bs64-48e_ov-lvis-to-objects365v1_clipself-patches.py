# Transfer: the OV-LVIS-trained F-ViT (L/14-336, CLIPSelf patches) evaluated on Objects365 v1 val (365 classes, box
# AP), alpha 0.3, T_vlm 120, T_det fixed at 50, the OV-LVIS test settings (score threshold 1e-4, NMS 0.5, 300 per
# image), as the reference's transfer configs. The classes are the json's categories in id order; make their
# embeddings with: python tools/prepare_ov_lvis.py --transfer objects365v1 --transfer-ann \
#   data/Objects365v1/objects365_reorder_val.json --model EVA02-L-14-336 --pretrained CLIP.pt
_base_ = 'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis_clipself-patches.py'
model = dict(
    data_preprocessor=dict(pad_mask=False),
    roi_head=dict(
        mask_roi_extractor=None, mask_head=None,
        bbox_head=dict(num_classes=365, novel_classes=None, vlm_temperature=120.0, alpha=0.3,
                       classifier=dict(embeddings='data/embeddings/objects365v1_eva02-l14-336.pt',
                                       test_temperature=50.0))),
)
test_dataloader = dict(dataset=dict(
    _delete_=True, type='OVCocoDataset', data_root='data/Objects365v1/', ann_file='objects365_reorder_val.json',
    data_prefix=dict(img='val/'), test_mode=True, pipeline={{_base_.test_pipeline}}))
test_evaluator = dict(_delete_=True, type='OVCocoBoxMetric', ann_file='data/Objects365v1/objects365_reorder_val.json',
                      novel_classes=[])
val_dataloader = test_dataloader
val_evaluator = test_evaluator
