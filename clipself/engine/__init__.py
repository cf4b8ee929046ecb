"""mmengine glue of the clipself stages: registries' contents (models, datasets, metrics, hooks),
atomic checkpoint writes and safe checkpoint loading. Importing it imports mmengine (not mmdet/mmseg)."""
from . import checkpoints  # noqa: F401  (atomic_local backend, safe globals)
from . import distill  # noqa: F401,E402  (CLIPSelf model, dataset, hooks)
from . import region_eval  # noqa: F401,E402  (zero-shot region classification: dataset, model, metric)
from . import run_checks  # noqa: F401,E402  (schedule summary and evaluation-overlap hooks, ShardSampler)
