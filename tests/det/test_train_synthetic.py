"""fvit_tiny_synthetic.py end to end, fast variant: train on generated scenes through the runner tools/train.py
uses, evaluate (all metric keys), test the checkpoint with tools/test.py (safe loading), and run the demo on it.

The config itself trains ~260 iterations on 96 images of 64 px; this variant trains ~100 iterations (25 epochs of 16
images of 64 px, batch 4) and checks a learnable signal: on the training boxes, the probability the detector gives
the right base class rises far above its initial value and above chance."""
import glob
import json
import os
import subprocess
import sys

import pytest
import torch

from .tiny import ROOT, register

CONFIG = os.path.join(ROOT, 'configs', 'fvit', 'fvit_tiny_synthetic.py')
EPOCHS = 25


def _cfg(work_dir, data_root):
    from clipself.engine.launch import prepare_config
    gen = dict(num_images=16, seed=0, size=(64, 64), object_size=(20, 36), num_objects=(1, 2),
               novel=['ring', 'star'], val_images=8)
    opts = {
        'train_dataloader.dataset.data_root': data_root, 'train_dataloader.dataset.generate': gen,
        'val_dataloader.dataset.data_root': data_root, 'val_dataloader.dataset.generate': gen,
        'test_dataloader.dataset.data_root': data_root, 'test_dataloader.dataset.generate': gen,
        'val_evaluator.ann_file': os.path.join(data_root, 'val/annotations/ov_val.json'),
        'test_evaluator.ann_file': os.path.join(data_root, 'val/annotations/ov_val.json'),
        'model.data_preprocessor.fixed_size': (64, 64),
        'test_dataloader.dataset.pipeline.1.scale': (64, 64), 'val_dataloader.dataset.pipeline.1.scale': (64, 64),
        'train_cfg.max_epochs': EPOCHS, 'train_cfg.val_interval': EPOCHS,
        'default_hooks.checkpoint.interval': EPOCHS, 'default_hooks.logger.interval': 4,
        'default_hooks.visualization': dict(type='DetVisualizationHook'),
        'log_level': 'WARNING',
    }
    return prepare_config(CONFIG, work_dir=work_dir, cfg_options=opts)


def p_true_on_training_boxes(model, dataset):
    """Mean probability of the annotated class for the ground-truth boxes of the training images."""
    from mmengine.dataset import pseudo_collate
    from mmdet.structures.bbox import bbox2roi
    model.eval()
    probs = []
    with torch.no_grad():
        for i in range(0, len(dataset), 4):
            items = [dataset[j] for j in range(i, min(i + 4, len(dataset)))]
            d = model.data_preprocessor(pseudo_collate(items), False)
            x = model.extract_feat(d['inputs'])
            boxes = [s.gt_instances.bboxes for s in d['data_samples']]
            labels = torch.cat([s.gt_instances.labels for s in d['data_samples']])
            p = model.roi_head._bbox_forward(x, bbox2roi(boxes))['cls_score'].softmax(-1)
            probs.append(p[torch.arange(len(labels)), labels])
    return float(torch.cat(probs).mean())


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    register()
    from mmengine.runner import Runner
    from mmengine.registry import DefaultScope
    from mmdet.registry import DATASETS
    root = tmp_path_factory.mktemp('fvit_syn')
    work = str(root / 'work')
    cfg = _cfg(work, str(root / 'data'))
    runner = Runner.from_cfg(cfg)
    with DefaultScope.overwrite_default_scope('mmdet'):
        probe_cfg = cfg.train_dataloader.dataset.copy()
        probe_cfg['pipeline'] = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                                 dict(type='PackDetInputs')]
        probe = DATASETS.build(probe_cfg)
    before = p_true_on_training_boxes(runner.model, probe)
    runner.train()
    after = p_true_on_training_boxes(runner.model, probe)
    metrics = runner.val_loop.evaluator.metrics[0]
    return dict(runner=runner, work=work, root=root, before=before, after=after, metrics=metrics)


def test_training_learns_and_evaluation_reports_every_key(trained):
    work = trained['work']
    assert os.path.isfile(os.path.join(work, f'epoch_{EPOCHS}.pth'))
    results = glob.glob(os.path.join(work, '*', f'results_val_epoch_{EPOCHS}.metrics.json'))
    assert results, os.listdir(work)
    metrics = json.load(open(results[0]))['metrics']
    assert set(metrics) == {'novel_ap50', 'base_ap50', 'all_ap50', 'all_ap', 'all_ap75'}
    assert all(v is None or 0 <= v <= 1 for v in metrics.values())
    chance = 1 / 6   # six base classes
    print(f"p(annotated class | training box): {trained['before']:.4f} before, {trained['after']:.4f} after")
    assert trained["after"] > max(3 * trained["before"], 2 * chance)


def test_tools_test_reads_the_checkpoint(trained, tmp_path):
    """tools/test.py in a fresh process (torch's weights_only loading of the mmengine checkpoint), with ``--out``
    (the predictions, pickled) and ``--show-dir`` (a picture per image); the data is already generated, so the
    config's generation parameters are not used."""
    import pickle
    root = trained['root']
    data_root = str(root / 'data')
    ckpt = os.path.join(trained['work'], f'epoch_{EPOCHS}.pth')
    work, dump, pictures = tmp_path / 'work', tmp_path / 'predictions.pkl', tmp_path / 'pictures'
    cmd = [sys.executable, os.path.join(ROOT, 'tools', 'test.py'), CONFIG, ckpt, '--work-dir', str(work),
           '--out', str(dump), '--show-dir', str(pictures),
           '--cfg-options', f'test_dataloader.dataset.data_root={data_root}',
           f'test_evaluator.ann_file={data_root}/val/annotations/ov_val.json',
           'test_dataloader.dataset.pipeline.1.scale=(64,64)', 'model.data_preprocessor.fixed_size=(64,64)']
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    results = glob.glob(str(work / '*' / 'results_test.metrics.json'))
    assert results
    tested = json.load(open(results[0]))['metrics']
    val = json.load(open(glob.glob(os.path.join(trained['work'], '*', '*.metrics.json'))[0]))['metrics']
    assert tested == pytest.approx(val, nan_ok=True)   # the same weights give the same numbers

    # --out: one entry per test image, the same detections as the metric's COCO-format results file
    images = sorted(os.listdir(os.path.join(data_root, 'val', 'images')))
    with open(dump, 'rb') as f:
        predictions = pickle.load(f)
    assert sorted(os.path.basename(p['img_path']) for p in predictions) == images
    assert all('gt_instances' not in p for p in predictions)
    coco = json.load(open(glob.glob(str(work / '*' / 'results_test.bbox.json'))[0]))
    scores = sorted(float(s) for p in predictions for s in p['pred_instances']['scores'])
    assert len(scores) == len(coco) > 0
    assert scores == pytest.approx(sorted(d['score'] for d in coco), abs=1e-4)
    for p in predictions:
        inst = p['pred_instances']
        assert inst['bboxes'].shape == (len(inst['scores']), 4) and len(inst['labels']) == len(inst['scores'])
    # --show-dir (absolute: used as is): a picture of every test image
    assert sorted(os.listdir(pictures)) == images
    assert all(os.path.getsize(pictures / name) > 0 for name in images)


def test_demo_on_an_image_and_a_folder(trained, tmp_path, capsys):
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    from demo_detect import main
    ckpt = os.path.join(trained['work'], f'epoch_{EPOCHS}.pth')
    images = str(trained['root'] / 'data' / 'val' / 'images')
    first = sorted(os.listdir(images))[0]
    out = str(tmp_path / 'one.png')
    main([os.path.join(images, first), '--config', CONFIG, '--checkpoint', ckpt, '--classes', 'square, circle,kettle',
          '--score-thr', '0.05', '--out', out])
    assert os.path.getsize(out) > 0
    # a folder, in a fresh process (no default scope left behind by the runner)
    out = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'demo_detect.py'), images, '--config', CONFIG,
                          '--checkpoint', ckpt, '--classes', 'square,circle', '--out', str(tmp_path / 'many')],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'wrote 8 picture(s)' in out.stdout
    assert len(os.listdir(tmp_path / 'many')) == len(os.listdir(images))
    with pytest.raises(SystemExit, match='not an F-ViT training checkpoint'):
        bad = str(tmp_path / 'bad.pth')
        torch.save({'state_dict': {'x': torch.zeros(1)}}, bad)
        main([images, '--config', CONFIG, '--checkpoint', bad, '--classes', 'square', '--out', str(tmp_path / 'x')])
