"""The training-free path end to end on a fixture whose features are known: mIoU computed by hand (whole image and
slide inference), the background threshold, best-synonym scoring, and the bad inputs that must fail clearly."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmcv.transforms import Compose
from mmengine.registry import DefaultScope
from PIL import Image

from clipself.models.text import save_text_embeddings

from .helpers import TINY_DIM, build

H, W = 48, 64
RED, GREEN, EVEN = (255, 0, 0), (0, 255, 0), (255, 245, 0)  # EVEN: equal red and green after CLIP normalisation


def _segmentor(mode, bg_threshold, classes=('background', 'red thing', 'green thing')):
    test_cfg = dict(mode='slide', crop_size=(32, 32), stride=(16, 16)) if mode == 'slide' else dict(mode='whole')
    from clipself.seg.inference import CLIP_PREPROCESSOR
    model = build(dict(type='ZeroShotSegmentor', clip=dict(model_name='ViT-Tiny-8'), classes=list(classes),
                       bg_index=0, bg_threshold=bg_threshold, logit_scale=40.0, test_cfg=test_cfg,
                       data_preprocessor=CLIP_PREPROCESSOR))
    # known features: per 8 px patch, the positive part of the mean normalised (R, G) -> dims 0 and 1
    model.extract_feat = lambda x: F.pad(F.avg_pool2d(x[:, :2], 8).clamp(min=0), (0, 0, 0, 0, 0, TINY_DIM - 2))
    e = torch.eye(TINY_DIM)
    model.query_embeddings = torch.stack([e[2], e[0], e[1]])  # background, red thing, green thing
    return model


def _fixture(tmp_path):
    """Left half: red on top (rows 0-23), green below; right half (x >= 32): EVEN. Ground truth: red = 1, green = 2,
    EVEN = 0, except two 8 x 16 blocks labelled otherwise, and +-4 px around region boundaries ignored (255)."""
    img = np.zeros((H, W, 3), np.uint8)
    img[:24, :32], img[24:, :32], img[:, 32:] = RED, GREEN, EVEN
    gt = np.zeros((H, W), np.uint8)
    gt[:24, :32], gt[24:, :32] = 1, 2
    gt[0:8, 0:16] = 2       # annotated green inside the red region
    gt[40:48, 48:64] = 1    # annotated red inside the EVEN region
    gt[20:28, :32] = 255    # the bilinear transition between token rows 2 and 3 (left half)
    gt[:, 28:36] = 255      # and between token columns 3 and 4
    Image.fromarray(img).save(tmp_path / 'img.png')
    Image.fromarray(gt).save(tmp_path / 'gt.png')
    return dict(img_path=str(tmp_path / 'img.png'), seg_map_path=str(tmp_path / 'gt.png'), reduce_zero_label=False,
                seg_fields=[])


def _miou(model, info):
    from mmseg.evaluation import IoUMetric
    with DefaultScope.overwrite_default_scope('mmseg'):
        pipeline = Compose([dict(type='LoadImageFromFile'), dict(type='LoadCheckedAnnotations', num_classes=3),
                            dict(type='PackSegInputs')])
    data = pipeline(dict(info))
    out = model.test_step(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]))
    metric = IoUMetric()
    metric.dataset_meta = dict(classes=('background', 'red thing', 'green thing'))
    metric.process({}, [o.to_dict() for o in out])
    return metric.compute_metrics(metric.results)['mIoU'], out[0]


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_known_features_give_the_hand_computed_miou(mode, tmp_path):
    info = _fixture(tmp_path)
    # valid pixels: red region x 0-27, y 0-19 (560, predicted 1), green x 0-27, y 28-47 (560, predicted 2), EVEN
    # x 36-63 (1344; red and green tie at ~0.5 < 0.6: predicted background 0).
    # confusion (gt, pred): (1,1) 560-128=432, (2,1) 128, (2,2) 560, (0,0) 1344-128=1216, (1,0) 128
    # IoU0 = 1216 / 1344; IoU1 = 432 / (560 + 560 - 432); IoU2 = 560 / (560 + 688 - 560)
    expected = 100 * (1216 / 1344 + 432 / 688 + 560 / 688) / 3  # 78.22
    miou, sample = _miou(_segmentor(mode, 0.6), info)
    assert miou == pytest.approx(round(expected, 2), abs=1e-6)
    assert sample.pred_sem_seg.data.shape == (1, H, W)
    # without the threshold EVEN goes to the (slightly) closer thing class: background is never predicted
    miou0, sample0 = _miou(_segmentor(mode, 0.0), info)
    assert int((sample0.pred_sem_seg.data == 0).sum()) == 0 and miou0 < miou - 20


def test_bad_inputs_name_the_file(tmp_path):
    info = _fixture(tmp_path)
    with DefaultScope.overwrite_default_scope('mmseg'):
        load = Compose([dict(type='LoadImageFromFile'), dict(type='LoadCheckedAnnotations', num_classes=2)])
    with pytest.raises(ValueError, match=r'gt\.png: label values \[2\] are outside the 2 classes'):
        load(dict(info))
    Image.fromarray(np.zeros((H, W - 1), np.uint8)).save(tmp_path / 'small.png')
    with pytest.raises(ValueError, match=r'small\.png: label map is 48x63 but its image is 48x64'):
        load(dict(info, seg_map_path=str(tmp_path / 'small.png')))
    # a class list that does not match the embedding file
    emb = tmp_path / 'emb.pt'
    save_text_embeddings(emb, ['sky', 'road'], torch.randn(2, TINY_DIM), model_name='ViT-Tiny-8')
    with pytest.raises(ValueError, match=r'emb\.pt holds 2 names but the classes \(list\) have 3 synonyms'):
        build(dict(type='ZeroShotSegmentor', clip=dict(model_name='ViT-Tiny-8'), classes=['sky', 'road, street'],
                   embeddings=str(emb)))
    # an empty class list
    (tmp_path / 'empty.txt').write_text('# nothing\n\n')
    with pytest.raises(ValueError, match='empty.txt: empty class list'):
        build(dict(type='ZeroShotSegmentor', clip=dict(model_name='ViT-Tiny-8'), classes=str(tmp_path / 'empty.txt')))
    with pytest.raises(ValueError, match='bg_threshold needs bg_index'):
        build(dict(type='ZeroShotSegmentor', clip=dict(model_name='ViT-Tiny-8'), classes=['a', 'b'], bg_threshold=0.3))
