"""`tools/train.py configs/clipself/clipself_tiny_synthetic.py` end to end, as users run it: training improves
the region/crop alignment on held-out scenes, exports load, kills resume, torchrun shards the data, a NaN
loss stops the run with a message, checkpoints are written atomically."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.ports import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(ROOT, 'configs', 'clipself', 'clipself_tiny_synthetic.py')


def _train_cmd(work_dir, data_root, *extra, cfg=()):
    opts = [f'train_dataloader.dataset.data_root={data_root}/', f'val_dataloader.dataset.data_root={data_root}_val/',
            *cfg]
    return [sys.executable, os.path.join(ROOT, 'tools', 'train.py'), CONFIG, '--work-dir', str(work_dir),
            *extra, '--cfg-options', *opts]


def _run(cmd, timeout=900):
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    return out.returncode, out.stdout + out.stderr


def _losses(work_dir):
    files = sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json')))
    rows = [json.loads(line) for f in files for line in open(f)]
    return [r['loss'] for r in rows if 'loss' in r]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One tiny run shared by the tests below (3 epochs x 12 iterations)."""
    base = tmp_path_factory.mktemp('clipself_tiny')
    work, data = base / 'work', base / 'data'
    code, log = _run(_train_cmd(work, data))
    assert code == 0, log[-3000:]
    return work, data, log


def test_tiny_run_learns_and_exports(trained, tmp_path):
    work, data, log = trained
    losses = _losses(work)
    assert len(losses) >= 6 and sum(losses[-3:]) / 3 < 0.75 * sum(losses[:3]) / 3, losses
    assert 'skipped_images_total' in log
    assert 'rois.thing.macc1' in log and 'maskpool.stuff.macc5' in log  # validation: region classification
    from clipself.models import build_clip
    exported = sorted(glob.glob(str(work / 'exported' / 'epoch_*.safetensors')))
    assert [os.path.basename(p) for p in exported] == ['epoch_1.safetensors', 'epoch_2.safetensors',
                                                      'epoch_3.safetensors']
    model = build_clip('EVA02-Tiny-8', pretrained=exported[-1])
    assert model.load_report.format == 'clipself'

    # region/crop cosine on held-out generated scenes: higher after training than before
    import clipself.engine  # noqa: F401  (safe loading of the mmengine checkpoint)
    from clipself.data.distill_dataset import CLIPSelfDataset
    from clipself.data.synthetic_coco import write_synthetic_coco
    from clipself.distill import region_crop_alignment, split_clipself_state_dict
    held = tmp_path / 'held_out'
    write_synthetic_coco(str(held), num_images=12, seed=123)
    ds = CLIPSelfDataset(data_root=str(held), ann_file='annotations/instances.json', img_dir='images',
                         sampler='proposals', proposal_file='annotations/proposals.json', student_size=128,
                         crop_size=64)
    items = [ds[i] for i in range(len(ds))]
    parts = split_clipself_state_dict(torch.load(work / 'epoch_3.pth', weights_only=True)['state_dict'])
    before, after = build_clip('EVA02-Tiny-8'), build_clip('EVA02-Tiny-8')
    before.clip.load_state_dict(parts['teacher'])
    after.clip.load_state_dict(parts['student'])
    cos_before = region_crop_alignment(before, before, items)
    cos_after = region_crop_alignment(after, before, items)
    cos_export = region_crop_alignment(model, before, items)
    assert cos_after > cos_before + 0.1, (cos_before, cos_after)
    assert cos_before < cos_export < cos_after + 1e-6


def test_export_tool(trained, tmp_path):
    work, _, _ = trained
    out = tmp_path / 'student.safetensors'
    code, log = _run([sys.executable, os.path.join(ROOT, 'tools', 'export_clip.py'), str(work / 'epoch_3.pth'),
                      str(out), '--alpha', '1.0'])
    assert code == 0, log
    import clipself.engine  # noqa: F401
    from clipself.distill import split_clipself_state_dict
    from clipself.models import build_clip
    student = split_clipself_state_dict(torch.load(work / 'epoch_3.pth', weights_only=True)['state_dict'])['student']
    loaded = build_clip('EVA02-Tiny-8', pretrained=out).clip.state_dict()
    key = 'visual.trunk.blocks.1.mlp.fc2.weight'
    torch.testing.assert_close(loaded[key], student[key])


def _last_checkpoint(work_dir):
    """The checkpoint mmengine's ``--resume`` would pick (named in ``work_dir/last_checkpoint``, which the
    checkpoint hook writes after the checkpoint itself), or None while there is none."""
    try:
        name = (work_dir / 'last_checkpoint').read_text().strip()
    except FileNotFoundError:
        return None
    return name if name and os.path.isfile(name) else None


def test_kill_and_resume(tmp_path):
    """SIGKILL as soon as the first epoch's checkpoint is recorded (2 of 3 epochs still to run, so the kill
    always lands mid-run), then ``--resume`` continues from it to the end."""
    work, data = tmp_path / 'work', tmp_path / 'data'
    cmd = _train_cmd(work, data)  # 3 epochs
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while _last_checkpoint(work) is None and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert os.path.basename(_last_checkpoint(work) or '') == 'epoch_1.pth', 'no checkpoint before the kill'
    assert not (work / 'epoch_2.pth').exists()
    code, log = _run(_train_cmd(work, data, '--resume'))
    assert code == 0, log[-3000:]
    assert 'resumed epoch: 1,' in log, log[-3000:]
    assert (work / 'epoch_3.pth').exists() and (work / 'exported' / 'epoch_3.safetensors').exists()


def test_nan_loss_stops_with_a_message(tmp_path):
    code, log = _run(_train_cmd(tmp_path / 'work', tmp_path / 'data',
                                cfg=['optim_wrapper.optimizer.lr=1e38', 'train_cfg.max_epochs=1']))
    assert code != 0
    assert 'FloatingPointError' in log and 'at iteration' in log


@pytest.mark.slow
def test_torchrun_two_processes_shard_the_data(tmp_path):
    work, data = tmp_path / 'work', tmp_path / 'data'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={free_port()}',
           os.path.join(ROOT, 'tools', 'train.py'), CONFIG, '--launcher', 'pytorch', '--work-dir', str(work),
           '--cfg-options', f'train_dataloader.dataset.data_root={data}/', f'val_dataloader.dataset.data_root={data}_val/',
           'train_cfg.max_epochs=1']
    code, log = _run(cmd, timeout=900)
    assert code == 0, log[-3000:]
    # 48 images, 4 per process, 2 processes: 6 iterations per epoch (12 with one process)
    assert 'Epoch(train) [1][6/6]' in log, log[-2000:]
    assert (work / 'epoch_1.pth').exists() and (work / 'exported' / 'epoch_1.safetensors').exists()


def test_atomic_backend_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    from mmengine.fileio import get_file_backend

    import clipself.engine.checkpoints as ck
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, ck.AtomicLocalBackend)
    target = tmp_path / 'latest.pth'
    backend.put(b'old complete checkpoint', target)

    def broken_replace(src, dst):
        raise KeyboardInterrupt('killed during the save')
    monkeypatch.setattr(ck.os, 'replace', broken_replace)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'new', target)
    assert target.read_bytes() == b'old complete checkpoint'
    assert not list(tmp_path.glob('*.tmp'))
