"""The demo's RegionCLIP-style row (`tools/demo_pipeline.py --regionclip`): the pseudo-labels it makes are a box
file and a noun file the baseline's dataset reads, better than chance with the shipped CLIP; the report's row."""
import json
import os

import torch

from clipself.data.region_nouns import RegionNounDataset
from clipself.data.synthetic_coco import write_synthetic_coco
from clipself.demo import DEMO_CLIP, MODEL
from clipself.demo.regionclip import MAX_BOXES, pseudo_label, regionclip_lines


def test_pseudo_labels_are_a_box_file_the_dataset_reads(tmp_path):
    shipped = os.path.isfile(DEMO_CLIP)
    clip = DEMO_CLIP
    if not shipped:  # plumbing only: a random CLIP of the demo's architecture
        from clipself.models import build_clip, save_safetensors
        torch.manual_seed(0)
        clip = save_safetensors(build_clip(MODEL).clip, str(tmp_path / 'random.safetensors'), model_name=MODEL)
    write_synthetic_coco(str(tmp_path / 'train'), num_images=6, seed=3, size=(96, 96), object_size=(24, 40))
    res = pseudo_label(clip, str(tmp_path / 'train'), str(tmp_path / 'boxes.json'), str(tmp_path / 'nouns.pt'))
    boxes = json.loads((tmp_path / 'boxes.json').read_text())
    assert [c['name'] for c in boxes['categories']][-2:] == ['stripes', 'blotches'] and len(boxes['categories']) == 10
    assert res['regionclip.pseudo_boxes'] == len(boxes['annotations']) <= 6 * MAX_BOXES
    ds = RegionNounDataset(data_root=str(tmp_path / 'train'), ann_file=str(tmp_path / 'boxes.json'),
                           img_dir='images', student_size=96, nouns=str(tmp_path / 'nouns.pt'))
    item = ds[0]
    assert len(item['boxes']) == len(item['labels']) > 0 and int(item['labels'].max()) < 10
    if shipped:  # the crops of proposals on a shape, named by the CLIP: far above chance (10%)
        assert res['regionclip.pseudo_label_top1'] > 30


def test_the_report_sentence_only_when_the_row_was_run():
    assert regionclip_lines({'before.rois.thing.macc1': 1.0}) == []
    r = {'regionclip.rois.thing.macc1': 20.0, 'regionclip.pseudo_boxes': 100.0, 'regionclip.pseudo_label_top1': 70.0,
         'after.rois.thing.macc1': 40.0, 'before.rois.thing.macc1': 1.0}
    line = regionclip_lines(r)[0]
    assert 'rois thing top-1 20.0, against 40.0 with CLIPSelf' in line and '70.0% right' in line
