"""Test helpers: seg configs with a tiny random tower swapped in, generated data in each dataset's file layout."""
import copy
import os

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import DefaultScope
from PIL import Image

import clipself.seg  # noqa: F401
from clipself.evaluation.segmentation import load_class_queries
from clipself.models.text import save_text_embeddings
from clipself.seg import class_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG_DIR = os.path.join(ROOT, 'configs', 'seg')
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get('PYTHONPATH')])))  # subprocesses
TINY_DIM, TINY_PATCH = 64, 8


def run_tool(name: str, argv):
    """``tools/NAME.py``'s ``main(argv)`` in this process (no interpreter start-up)."""
    from ..tool_modules import load_tool
    return load_tool(name).main(list(argv))


def load_config(name: str) -> Config:
    return Config.fromfile(os.path.join(CONFIG_DIR, name))


def random_embeddings(path: str, classes, model_name: str, seed: int = 0) -> str:
    """A text-embeddings file with one random row per synonym of ``classes`` (the text tower is not under test)."""
    queries = load_class_queries(class_file(classes) if isinstance(classes, str) else classes).queries
    g = torch.Generator().manual_seed(seed)
    save_text_embeddings(path, queries, torch.randn(len(queries), TINY_DIM, generator=g), model_name=model_name)
    return path


def tiny_model_cfg(model_cfg, tmp_dir: str) -> dict:
    """The config's segmentor with the tiny tower of the same family, 32 px windows (stride 16) and random text
    embeddings from a file; everything else (classes, last block, background, logit scale) kept."""
    m = copy.deepcopy(model_cfg.to_dict() if isinstance(model_cfg, ConfigDict) else model_cfg)
    tiny = 'EVA02-Tiny-8' if m['clip']['model_name'].startswith('EVA') else 'ViT-Tiny-8'
    m['clip'] = dict(model_name=tiny, pretrained=None)
    m['test_cfg'] = dict(m['test_cfg'], crop_size=(32, 32), stride=(16, 16))
    m['embeddings'] = random_embeddings(os.path.join(tmp_dir, f'{m["classes"]}_{tiny}.pt'), m['classes'], tiny)
    m['text_cache_dir'] = None
    return m


def build(model_cfg):
    from mmseg.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(model_cfg)
    return model.eval()


def predict_small(model, dataset, label_transform: dict):
    """``test_step`` on the dataset's first image resized to a 40 px short side (labels read by ``label_transform``);
    returns the data samples and the mIoU of mmseg's ``IoUMetric`` over them (ignore index from the transform)."""
    from mmcv.transforms import Compose
    from mmseg.evaluation import IoUMetric
    with DefaultScope.overwrite_default_scope('mmseg'):
        small = Compose([dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2048, 40), keep_ratio=True),
                         dict(label_transform), dict(type='PackSegInputs')])
    data = small(dataset.get_data_info(0))
    with torch.no_grad():
        out = model.test_step(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]))
    metric = IoUMetric(ignore_index=label_transform.get('ignore_index', 255))
    metric.dataset_meta = dataset.metainfo
    metric.process({}, [o.to_dict() for o in out])
    return out, metric.compute_metrics(metric.results)['mIoU']


def _img(path, h, w, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path)


def _label(path, labels, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im = Image.fromarray(labels.astype(np.uint8))
    if mode == 'P':  # VOC: palette PNGs
        im = im.convert('P')
        im.putpalette([v for i in range(256) for v in (i, 255 - i, (7 * i) % 256)])
    im.save(path)


def write_dataset(key: str, root: str, *, h: int = 37, w: int = 52, values=(0, 1, 2, 255), seed: int = 0) -> str:
    """One image and its label map in the real layout of benchmark ``key``; returns the config's data_root for it.
    Labels: four quadrants with ``values``."""
    lab = np.empty((h, w), np.uint8)
    lab[:h // 2, :w // 2], lab[:h // 2, w // 2:], lab[h // 2:, :w // 2], lab[h // 2:, w // 2:] = values
    if key in ('voc21', 'voc20'):
        base = os.path.join(root, 'VOCdevkit/VOC2012')
        _img(f'{base}/JPEGImages/2007_000033.jpg', h, w, seed)
        _label(f'{base}/SegmentationClass/2007_000033.png', lab, 'P')
        os.makedirs(f'{base}/ImageSets/Segmentation', exist_ok=True)
        open(f'{base}/ImageSets/Segmentation/val.txt', 'w').write('2007_000033\n')
    elif key in ('pc60', 'pc59'):
        base = os.path.join(root, 'VOCdevkit/VOC2010')
        _img(f'{base}/JPEGImages/2008_000002.jpg', h, w, seed)
        _label(f'{base}/SegmentationClassContext/2008_000002.png', lab)
        os.makedirs(f'{base}/ImageSets/SegmentationContext', exist_ok=True)
        open(f'{base}/ImageSets/SegmentationContext/val.txt', 'w').write('2008_000002\n')
    elif key in ('coco-object', 'coco-stuff164k'):
        base = os.path.join(root, 'coco_stuff164k')
        _img(f'{base}/images/val2017/000000000139.jpg', h, w, seed)
        suffix = '_instanceTrainIds.png' if key == 'coco-object' else '_labelTrainIds.png'
        _label(f'{base}/annotations/val2017/000000000139{suffix}', lab)
    elif key == 'cityscapes':
        base = os.path.join(root, 'cityscapes')
        _img(f'{base}/leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png', h, w, seed)
        _label(f'{base}/gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_labelTrainIds.png', lab)
    elif key in ('ade847', 'pc459'):  # detectron2 layouts, 16-bit .tif labels (255 is a class there, not ignored)
        base = os.path.join(root, 'ADE20K_2021_17_01' if key == 'ade847' else 'VOCdevkit/VOC2010')
        img, ann = (('images_detectron2/validation', 'annotations_detectron2/validation') if key == 'ade847'
                    else ('JPEGImages', 'annotations_detectron2/pc459_val'))
        _img(f'{base}/{img}/x_00000001.jpg', h, w, seed)
        os.makedirs(f'{base}/{ann}', exist_ok=True)
        wide = lab.astype(np.uint16)
        wide[wide == 255] = 65535
        Image.fromarray(wide).save(f'{base}/{ann}/x_00000001.tif')
    elif key == 'ade20k':
        base = os.path.join(root, 'ade/ADEChallengeData2016')
        _img(f'{base}/images/validation/ADE_val_00000001.jpg', h, w, seed)
        _label(f'{base}/annotations/validation/ADE_val_00000001.png', lab)
    else:
        raise KeyError(key)
    return base
