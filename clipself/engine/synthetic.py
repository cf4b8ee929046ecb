"""Generated data on first use, for the configs that need no dataset (``generate=dict(...)`` in a dataset)."""
import os
from typing import Optional

from mmengine.dist import barrier, is_main_process

from ..data.synthetic_coco import write_synthetic_coco


def ensure_generated(generate: Optional[dict], data_root: str, marker: str) -> None:
    """Write the synthetic COCO set (``write_synthetic_coco(data_root, **generate)``) unless ``marker`` (a path
    under ``data_root``) exists; the main process writes, every process waits. No-op when ``generate`` is None."""
    if generate is None:
        return
    if is_main_process() and not os.path.isfile(os.path.join(data_root, marker)):
        write_synthetic_coco(data_root, **generate)
    barrier()
