"""Checkpoint probing of ``tools/test.py``, the patches of ``clipself.engine.patches``, atomic writes."""
import io
import os
import threading

import open_clip
import pytest
import torch
from mmengine.config import Config

from clipself.engine.checkpoints import route_test_checkpoint
from clipself.fileio import atomic_write, write_json
from clipself.models import CheckpointError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = os.path.join(ROOT, 'configs', 'clipself', 'region-cls_tiny_synthetic.py')


def test_a_corrupt_training_checkpoint_fails_naming_the_file(tmp_path):
    """Unreadable files are not taken for CLIP files (which would fail later, far from the cause)."""
    cfg = Config.fromfile(TINY)
    good = tmp_path / 'epoch_1.pth'
    torch.save({'meta': {'epoch': 1}, 'state_dict': {'clip.w': torch.zeros(2)}}, good)
    truncated = tmp_path / 'epoch_2.pth'
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CheckpointError, match='epoch_2.pth'):
        route_test_checkpoint(cfg, str(truncated))
    garbage = tmp_path / 'epoch_3.pth'
    garbage.write_bytes(b'not a checkpoint at all')
    with pytest.raises(CheckpointError, match='epoch_3.pth'):
        route_test_checkpoint(cfg, str(garbage))
    unsafe = tmp_path / 'epoch_4.pth'
    torch.save({'meta': {'hook': threading.Thread}, 'state_dict': {}}, unsafe)  # a global no safe loader accepts
    with pytest.raises(CheckpointError, match='epoch_4.pth'):
        route_test_checkpoint(cfg, str(unsafe))
    route_test_checkpoint(cfg, str(good))  # a readable one still routes as before
    assert cfg.load_from == str(good) and cfg.model.clip.pretrained is None


def test_patches_are_idempotent_and_make_logging_state_safe_to_load():
    """``apply_all`` twice changes nothing; with it, a checkpoint holding mmengine's logging state (a HistoryBuffer)
    round-trips through ``torch.load(weights_only=True)``. That importing the library applies nothing is checked in
    tests/test_layering.py (a fresh interpreter)."""
    from mmengine.logging import HistoryBuffer

    from clipself.engine import patches
    patches.apply_all()

    def state():
        return (HistoryBuffer.__getstate__, dict(HistoryBuffer._statistics_methods), len(open_clip.list_models()),
                len(torch.serialization.get_safe_globals()))
    before = state()
    patches.apply_all()
    assert state() == before
    buf = HistoryBuffer()
    buf.update(2.0)
    buf.update(4.0)
    f = io.BytesIO()
    torch.save({'message_hub': {'log_scalars': {'train/loss': buf}}}, f)
    f.seek(0)
    back = torch.load(f, weights_only=True)['message_hub']['log_scalars']['train/loss']
    assert back.statistics('mean') == 3.0 and back.statistics('total') == 6.0


def test_atomic_writes_leave_the_old_file_on_error_and_no_temporary_files(tmp_path):
    path = tmp_path / 'sub' / 'x.json'
    write_json({'a': 1}, path)
    assert path.read_text() == '{"a": 1}'
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write('{"half')
            raise RuntimeError('killed mid-write')
    assert path.read_text() == '{"a": 1}' and os.listdir(path.parent) == ['x.json']
    # concurrent writers of one path each get their own temporary file: every result is a whole file
    threads = [threading.Thread(target=write_json, args=({'k': i, 'pad': 'x' * 10000}, path)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    import json
    assert json.loads(path.read_text())['k'] in range(8) and os.listdir(path.parent) == ['x.json']
