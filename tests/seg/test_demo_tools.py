"""tools/demo_segment.py, tools/visualize_seg.py and tools/test.py on seg configs, with tiny random models (plumbing:
the pictures are written, the runner evaluates)."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from .helpers import ENV, ROOT, load_config, random_embeddings, run_tool, write_dataset


def test_demo_segment_writes_a_picture(tmp_path, capsys):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 70, 3), dtype=np.uint8)).save(tmp_path / 'a.jpg')
    out = tmp_path / 'out'
    args = [str(tmp_path / 'a.jpg'), '--model', 'ViT-Tiny-8', '--pretrained', 'random', '--out', str(out),
            '--short-side', '40', '--crop', '32', '--stride', '16']
    run_tool('demo_segment', args + ['--classes', 'sky, road,car'])
    assert Image.open(out / 'a.png').size[0] > 70 and 'wrote 1 picture' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='empty class list'):
        run_tool('demo_segment', args + ['--classes', ' , '])


def test_visualize_seg_draws_image_gt_and_prediction(tmp_path):
    from clipself.seg.show import draw_predictions
    cfg = load_config('zeroshot_vit-b16_voc21.py')
    cfg.model.clip = dict(model_name='ViT-Tiny-8', pretrained=None)
    cfg.model.test_cfg = dict(mode='whole')
    cfg.model.embeddings = random_embeddings(str(tmp_path / 'e.pt'), 'voc21', 'ViT-Tiny-8')
    cfg.test_dataloader.dataset.data_root = write_dataset('voc21', str(tmp_path))
    cfg.test_dataloader.dataset.pipeline[1].scale = (2048, 40)
    written = draw_predictions(cfg, str(tmp_path / 'vis'), num_images=2)
    assert len(written) == 1
    assert Image.open(written[0]).size == (3 * 52, 37)   # image | ground truth | prediction


def test_tools_test_runs_a_seg_config(tmp_path):
    """tools/test.py CONFIG random: the runner (default_scope mmseg, custom_imports) evaluates a config end to end."""
    root = write_dataset('voc21', str(tmp_path))
    emb = random_embeddings(str(tmp_path / 'e.pt'), 'voc21', 'ViT-Tiny-8')
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'test.py'), os.path.join(ROOT, 'configs/seg/zeroshot_vit-b16_voc21.py'),
         'random', '--work-dir', str(tmp_path / 'work'), '--cfg-options', 'model.clip.model_name=ViT-Tiny-8',
         f'model.embeddings={emb}', f'test_dataloader.dataset.data_root={root}', 'test_dataloader.num_workers=0',
         'model.test_cfg.crop_size=(32,32)', 'model.test_cfg.stride=(16,16)',
         'test_dataloader.dataset.pipeline.1.scale=(2048,40)'],
        capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'mIoU' in proc.stdout + proc.stderr
