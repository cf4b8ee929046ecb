"""mmengine glue of the clipself stages: the ``clipself`` registries' contents (the CLIPSelf, RegionCLIP-style and
region-classification models, datasets, metric, hooks), atomic checkpoint writes and safe checkpoint loading.

Importing this package is the registration entry point of the clipself configs
(``custom_imports=dict(imports=['clipself.engine'])``): it registers the modules and applies
:func:`clipself.engine.patches.apply_all` (see there for each patch and why). Imports mmengine, not mmdet/mmseg.
"""
from . import patches
from . import checkpoints  # noqa: F401  (the 'atomic_local' file backend)
from . import clipself_model  # noqa: F401  (the CLIPSelf model)
from . import dataset_builders  # noqa: F401  (CLIPSelfDataset, RegionNounDataset, COCOPanopticRegions)
from . import optim  # noqa: F401  (FrozenAwareOptimWrapperConstructor)
from . import region_eval  # noqa: F401  (zero-shot region classification: model, metric)
from . import regionclip_model  # noqa: F401  (the RegionCLIP-style baseline)
from . import run_checks  # noqa: F401  (schedule summary and evaluation-overlap hooks, ShardSampler)
from . import training_hooks  # noqa: F401  (ExportCLIPHook, NonFiniteLossHook, ThroughputHook, TeacherEvalHook)

patches.apply_all()
