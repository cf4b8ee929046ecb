"""Atomic file writes: a unique temporary file in the destination's folder, then ``os.replace``.

A reader never sees a half-written file, a kill during a write leaves the previous file (or none) behind, and
concurrent writers of the same path never share a temporary file (the last ``os.replace`` wins). Plain Python,
no clipself imports: every layer may use it.
"""
import contextlib
import json
import os
import tempfile
from typing import IO, Iterator, Union

PathLike = Union[str, os.PathLike]


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[str]:
    """Yields a fresh temporary path beside ``path`` (its folder is created) for a writer that wants a file name
    (``safetensors.save_file``, ``torch.save``); renamed onto ``path`` when the block ends without error, removed
    when it raises."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.', suffix='.tmp')
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = 'w', encoding: str = 'utf-8', fsync: bool = False) -> Iterator[IO]:
    """``with atomic_write(path) as f: f.write(...)``: a file object on a temporary file beside ``path``, renamed
    onto it when the block ends without error. ``mode`` ``'w'`` (text) or ``'wb'``; ``fsync``: flush the data to
    disk before the rename (checkpoints)."""
    if mode not in ('w', 'wb'):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp:
        with open(tmp, mode, **({} if 'b' in mode else {'encoding': encoding})) as f:
            yield f
            if fsync:
                f.flush()
                os.fsync(f.fileno())


def write_json(obj, path: PathLike, **dump_kwargs) -> str:
    """``json.dump(obj, ..., **dump_kwargs)`` into ``path`` atomically; returns the path."""
    with atomic_write(path) as f:
        json.dump(obj, f, **dump_kwargs)
    return os.fspath(path)
