"""Package-level promises: import cost, layout, the demo, generated data and transforms."""
import json
import os

import numpy as np
import pytest
import torch

from clipself.data.synthetic import SHAPES, make_scene, shape_mask
from clipself.data.transforms import crop_resize_pad, enlarge_box, normalize, resize_pad


def test_scenes_are_seeded_and_consistent():
    a = make_scene(np.random.default_rng(3))
    b = make_scene(np.random.default_rng(3))
    np.testing.assert_array_equal(a.image, b.image)
    assert a.image.shape == (192, 192, 3) and a.image.dtype == np.uint8
    assert len(a.boxes) == len(a.masks) == len(a.labels) == len(a.names) >= 1
    for box, mask in zip(a.boxes, a.masks):
        ys, xs = np.nonzero(mask)
        assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    assert all(shape_mask(s, 32).any() for s in SHAPES)
    with pytest.raises(ValueError, match='unknown shape'):
        shape_mask('hexagon', 8)


def test_resize_pad_and_boxes():
    img = np.random.default_rng(0).integers(0, 255, (60, 120, 3), dtype=np.uint8)
    out, scale = resize_pad(img, 64)
    assert out.shape == (3, 64, 64) and scale == pytest.approx(64 / 120)
    assert (out[:, 32:] == 0).all() and (out[:, :32] > 0).any()  # 60 * 64/120 = 32 image rows, then padding
    crop = crop_resize_pad(img, (10, 10, 30, 50), 32)  # 20 wide, 40 tall -> 16 x 32, centred
    assert crop.shape == (3, 32, 32)
    assert (crop[:, :, :8] == 0).all() and (crop[:, :, 24:] == 0).all()
    # PIL rounds the box: (9.6, 10.4, 29.6, 49.5) crops the same pixels as (10, 10, 30, 50)
    torch.testing.assert_close(crop_resize_pad(img, (9.6, 10.4, 29.6, 49.5), 32), crop)
    assert enlarge_box((10, 10, 30, 50), 1.5, (60, 120)) == (5.0, 0.0, 35.0, 60.0)
    with pytest.raises(ValueError, match='empty'):
        crop_resize_pad(img, (30, 10, 30, 20), 32)
    x = normalize(torch.full((3, 2, 2), 255, dtype=torch.uint8))
    assert x.dtype == torch.float32 and x.max() > 1.5


def test_demo_fast_variant_runs_end_to_end(tmp_path):
    """`make demo`'s pipeline in its fast variant (generated data, one distillation run through the real runner,
    the real region metric before/after, report + pictures). With the shipped pre-trained CLIP it must also
    show the effect's direction: rois thing top-1 rises."""
    import torch

    from clipself.demo import DEMO_CLIP, MODEL, run_demo
    from clipself.models import build_clip, save_safetensors
    shipped = os.path.isfile(DEMO_CLIP)
    clip = DEMO_CLIP
    if not shipped:  # plumbing only: a random CLIP of the demo's architecture
        torch.manual_seed(0)
        clip = save_safetensors(build_clip(MODEL).clip, str(tmp_path / 'random.safetensors'), model_name=MODEL)
    res = run_demo(str(tmp_path / 'demo'), fast=True, clip=clip, log=lambda s: None)
    saved = json.loads((tmp_path / 'demo' / 'results.json').read_text())
    assert saved['before.rois.thing.macc1'] == res['before.rois.thing.macc1']
    for key in ('before.rois.thing.macc1', 'before.crops.thing.macc1', 'before.maskpool.stuff.macc1',
                'after.rois.thing.macc1', 'clip_zeroshot_top1', 'after.clip_zeroshot_top1',
                'fvit.novel_ap50.original', 'fvit.novel_ap50.distilled', 'fvit.base_ap50.distilled',
                'seg.before.miou', 'seg.after.miou'):
        assert key in saved, key
    assert 0 <= saved['seg.before.miou'] <= 100 and saved['seg.before.miou'] != saved['seg.after.miou']
    for name in ('loss_curves.png', 'dense_features_1.png', 'segmentation.png', 'detections.png'):
        assert (tmp_path / 'demo' / name).stat().st_size > 5000, name
    report = (tmp_path / 'demo' / 'report.md').read_text()
    assert '| original CLIP |' in report and '| proposals: student |' in report and 'novel AP50' in report
    assert 'Training-free semantic segmentation' in report
    # per-class figures of the novel shapes: region top-1 from the metric's own file, AP50 from the detector's
    for shape in ('star', 'ring'):
        for key in (f'before.crops.class.{shape}.top1', f'after.rois.class.{shape}.top1',
                    f'fvit.class.{shape}.ap50.original', f'fvit.class.{shape}.ap50.distilled'):
            assert key in saved, key
        assert f'| {shape} (novel) |' in report
    region = json.loads((tmp_path / 'demo' / 'eval_after' / 'region_classification.json').read_text())
    assert saved['after.rois.class.star.top1'] == region['per_class']['rois']['star']['top1']
    assert not any(k.startswith('regionclip') for k in saved) and 'RegionCLIP' not in report  # only with the flag
    if shipped:
        assert saved['after.rois.thing.macc1'] > saved['before.rois.thing.macc1'] + 5


def test_demo_runs_in_parallel_processes_and_reports_failures(monkeypatch):
    """The demo's independent runs go to processes (one per core, up to the number of runs; threads share the
    rest), results by name; an error in a run reaches the caller."""
    import operator

    import pytest

    from clipself.demo import scheduler
    monkeypatch.setattr(scheduler.os, 'sched_getaffinity', lambda pid: set(range(8)), raising=False)
    assert scheduler.plan_workers(3) == (3, 2) and scheduler.plan_workers(1) == (1, 8)
    monkeypatch.setattr(scheduler.os, 'sched_getaffinity', lambda pid: {0}, raising=False)
    assert scheduler.plan_workers(3) == (1, 1)
    monkeypatch.setattr(scheduler.os, 'sched_getaffinity', lambda pid: {0, 1}, raising=False)
    lines = []
    out = scheduler.run_in_parallel({'a': (operator.add, 1, 2), 'b': (operator.mul, 3, 4)}, lines.append)
    assert out == {'a': 3, 'b': 12} and '2 processes' in lines[0]
    # spawned workers start with mmengine's start method (not the parent's), so its runners do not warn
    import multiprocessing
    parent = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method('spawn', force=True)
    try:
        out = scheduler.run_in_parallel({'a': (_start_method,), 'b': (os.getpid,)}, lines.append)
    finally:
        multiprocessing.set_start_method(parent, force=True)
    assert out['a'] == 'fork' and out['b'] != os.getpid()
    with pytest.raises(ZeroDivisionError):
        scheduler.run_in_parallel({'a': (operator.add, 1, 2), 'b': (operator.truediv, 1, 0)}, lines.append)
    # 'b' needs 'a' (2 s): 'c', listed after it, takes the free process first
    import time
    out = scheduler.run_in_parallel({'a': (time.sleep, 2.0), 'b': (time.time,), 'c': (time.time,)}, lines.append,
                            needs={'b': 'a'})
    assert out['b'] - out['c'] > 1.0 and 'b waits for a' in lines[-1]
    with pytest.raises(ValueError, match="listed first"):
        scheduler.run_in_parallel({'b': (time.time,), 'a': (time.time,)}, lines.append, needs={'b': 'a'})


def _start_method():
    import multiprocessing
    return multiprocessing.get_start_method(allow_none=True)


def test_pretraining_teaches_the_stuff_words_on_background_only_images(tmp_path):
    """``stuff_p`` swaps that share of each batch for background-only images captioned with the texture's name; the
    result records its texture zero-shot accuracy. Texture images carry the scenes' background labels."""
    from clipself.data.synthetic import BACKGROUNDS
    from clipself.demo.pretrain import clip_record, pretrain_demo_clip, pretrain_tiny_clip, texture_images
    images, labels = texture_images(np.random.default_rng(0), 6)
    assert images.shape == (6, 3, 64, 64) and images.dtype == torch.uint8
    assert set(labels.tolist()) <= set(range(len(BACKGROUNDS)))
    # a plain background has no shape edges: neighbouring pixels differ little (texture + noise only)
    assert float((images[:, :, :, 1:].float() - images[:, :, :, :-1].float()).abs().mean()) < 20
    tiny = dict(model_name='EVA02-Tiny-8', batch_size=8, pool=16)
    path = str(tmp_path / 'clip.safetensors')
    figures = pretrain_tiny_clip(path, steps=2, stuff_p=0.5, log=lambda s: None, **tiny)
    assert 0.0 <= figures['stuff_zero_shot_top1'] <= 1.0
    stage2 = pretrain_tiny_clip(str(tmp_path / 'clip2.safetensors'), steps=1, init=path, log=lambda s: None, **tiny)
    assert 'stuff_zero_shot_top1' not in stage2 and stage2['init']['stuff_p'] == 0.5
    # the shipped file's recipe: stages continue from each other, the earlier ones recorded in the last
    pretrain_demo_clip(str(tmp_path / 'demo.safetensors'), recipe=(dict(steps=2, **tiny),
                                                                    dict(steps=1, stuff_p=0.5, lr=1e-4, **tiny)),
                       log=lambda s: None)
    record = clip_record(str(tmp_path / 'demo.safetensors'))
    assert record['lr'] == 1e-4 and record['init']['steps'] == 2 and record['init']['file'] == 'stage1.safetensors'
    from clipself.demo.report import pretraining_line  # the report names both stages
    line = pretraining_line(record)
    assert '2 steps' in line and 'then 1 steps' in line and '50% of each batch background-only' in line
    assert 'never saw' not in pretraining_line(clip_record(str(tmp_path / 'clip2.safetensors')))  # its init did
    assert 'never saw the background words' in pretraining_line(dict(steps=900, stuff_p=0.0))
    three = pretraining_line(dict(steps=3, stuff_p=0.2, init=dict(steps=2, init=dict(steps=1))))  # every stage named
    assert three.index('1 steps') < three.index('then 2 steps') < three.index('then 3 steps')
    assert sorted(os.listdir(tmp_path)) == ['clip.safetensors', 'clip2.safetensors', 'demo.safetensors']
    assert clip_record(str(tmp_path / 'clip2.safetensors'))['init']['file'] == 'clip.safetensors'
