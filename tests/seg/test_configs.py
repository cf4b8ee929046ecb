"""Every segmentation config loads, states the literature's protocol, reads generated data in its dataset's real
file layout, and builds with a tiny random tower swapped in; predict runs end to end (pipeline, data preprocessor,
slide inference, background threshold, IoUMetric) on the generated image."""
import glob
import os

import pytest
from mmengine.registry import DefaultScope

from clipself.evaluation.segmentation import load_class_queries
from clipself.seg import class_file

from .helpers import CONFIG_DIR, build, load_config, predict_small, tiny_model_cfg, write_dataset

MODELS_ = ('eva02-b16', 'eva02-l14-336', 'vit-b16')
DATASETS_ = ('voc21', 'pc60', 'coco-object', 'voc20', 'pc59', 'coco-stuff164k', 'cityscapes', 'ade20k')
CONFIGS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(CONFIG_DIR, 'zeroshot_*.py')))
SHORT_SIDE = {'coco-stuff164k': 448, 'cityscapes': 560}
BACKGROUND = ('voc21', 'pc60', 'coco-object')


def test_the_configs_exist():
    assert CONFIGS == sorted(f'zeroshot_{m}_{d}.py' for m in MODELS_ for d in DATASETS_)


def _dataset_key(name):
    return name[:-3].split('_', 2)[2]


@pytest.mark.parametrize('name', CONFIGS)
def test_config_protocol_data_and_predict(name, tmp_path):
    cfg = load_config(name)
    key = _dataset_key(name)
    assert cfg.default_scope == 'mmseg' and cfg.custom_imports.imports == ['clipself.seg']
    m = cfg.model
    assert m.type == 'ZeroShotSegmentor' and m.last_block == 'maskclip' and m.templates == 'imagenet'
    assert m.test_cfg == dict(mode='slide', crop_size=(224, 224), stride=(112, 112))
    assert m.clip.pretrained.startswith('checkpoints/')
    assert m.clip.model_name == {'eva02-b16': 'EVA02-B-16', 'eva02-l14-336': 'EVA02-L-14-336',
                                 'vit-b16': 'ViT-B-16'}[name.split('_')[1]]
    assert m.data_preprocessor.bgr_to_rgb and m.data_preprocessor.mean == [122.771, 116.746, 104.094]
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert pipeline[1].scale == (2048, SHORT_SIDE.get(key, 336)) and pipeline[1].keep_ratio
    if key in BACKGROUND:
        assert (m.bg_index, m.bg_threshold) == (0, 0.1)
    else:
        assert m.get('bg_index') is None and m.get('bg_threshold', 0.0) == 0.0
    assert cfg.test_evaluator.type == 'IoUMetric'

    # the dataset class reads one generated image in its real layout; the class list matches its classes
    from mmseg.registry import DATASETS
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = write_dataset(key, str(tmp_path), values=(0, 1, 2, 255))
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(ds_cfg)
    classes = load_class_queries(class_file(m.classes))
    assert len(classes) == len(dataset.metainfo['classes']) == pipeline[2].num_classes
    assert len(dataset) == 1
    item = dataset[0]
    assert item['inputs'].shape[1:] == (SHORT_SIDE.get(key, 336),
                                        round(52 * SHORT_SIDE.get(key, 336) / 37))  # short side scaled
    gt = item['data_samples'].gt_sem_seg.data
    assert gt.shape[-2:] == (37, 52)   # ground truth at the original size
    reduced = key in ('voc20', 'pc59', 'ade20k')
    assert int(gt[0, 0, 0]) == (255 if reduced else 0) and int(gt[0, 0, -1]) == (0 if reduced else 1)

    # predict with a tiny tower: labels at the original size, within the class list; the metric runs
    model = build(tiny_model_cfg(m, str(tmp_path)))
    out, miou = predict_small(model, dataset, pipeline[2])
    pred = out[0].pred_sem_seg.data
    assert pred.shape == (1, 37, 52) and 0 <= int(pred.min()) and int(pred.max()) < len(classes)
    assert out[0].seg_logits.data.shape == (len(classes), 37, 52)
    assert 0.0 <= miou <= 100.0
