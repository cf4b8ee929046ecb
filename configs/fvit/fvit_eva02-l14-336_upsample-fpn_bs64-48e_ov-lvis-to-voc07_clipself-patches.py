# Transfer: the OV-LVIS-trained F-ViT (L/14-336, CLIPSelf patches) evaluated on PASCAL VOC 2007 test (20 classes,
# mAP at IoU 0.5 and 0.75), alpha 0.3, T_vlm 120, T_det fixed at 50, the OV-LVIS test settings (score threshold
# 1e-4, NMS 0.5, 300 per image), as the reference's transfer configs. Embeddings:
#   python tools/prepare_ov_lvis.py --transfer voc --model EVA02-L-14-336 --pretrained CLIP.pt
_base_ = 'fvit_eva02-l14-336_upsample-fpn_bs64-48e_ov-lvis_clipself-patches.py'
model = dict(
    data_preprocessor=dict(pad_mask=False),
    roi_head=dict(
        mask_roi_extractor=None, mask_head=None,
        bbox_head=dict(num_classes=20, novel_classes=None, vlm_temperature=120.0, alpha=0.3,
                       classifier=dict(embeddings='data/embeddings/voc_eva02-l14-336.pt', test_temperature=50.0))),
)
# the base's test pipeline (load, resize to 896) with VOC's annotations loaded before packing (VOCMetric reads them)
voc_test_pipeline = [*_base_.test_pipeline[:-1], dict(type='LoadAnnotations', with_bbox=True), _base_.test_pipeline[-1]]
test_dataloader = dict(dataset=dict(
    _delete_=True, type='VOCDataset', data_root='data/VOCdevkit/', ann_file='VOC2007/ImageSets/Main/test.txt',
    data_prefix=dict(sub_data_root='VOC2007/'), test_mode=True, pipeline=voc_test_pipeline))
test_evaluator = dict(_delete_=True, type='VOCMetric', metric='mAP', eval_mode='11points', iou_thrs=[0.5, 0.75])
val_dataloader = test_dataloader
val_evaluator = test_evaluator
