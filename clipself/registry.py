"""mmengine registries of the ``clipself`` scope (children of mmengine's root registries).

Configs of the clipself stages set ``default_scope = 'clipself'``; names not found here fall back to
mmengine's (``OptimWrapper``, ``CosineAnnealingLR``, ``CheckpointHook`` ...). The detector and segmenter
plug-ins register with mmdet's / mmseg's registries instead (``clipself.det``, ``clipself.seg``).
Importing this module imports mmengine (not mmdet/mmseg).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS, scope='clipself', locations=['clipself.engine'])
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, scope='clipself', locations=['clipself.engine'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS, scope='clipself',
                         locations=['clipself.engine'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, scope='clipself', locations=['clipself.engine'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, scope='clipself', locations=['clipself.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='clipself', locations=['clipself.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, scope='clipself', locations=['clipself.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry('optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                      scope='clipself', locations=['clipself.engine'])
