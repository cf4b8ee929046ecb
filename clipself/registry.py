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
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
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
# the rest only fall through to mmengine's modules; declaring them keeps the scope lookups quiet
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, scope='clipself')
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope='clipself')
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, scope='clipself')
LOG_PROCESSORS = Registry('log_processor', parent=MMENGINE_LOG_PROCESSORS, scope='clipself')
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS, scope='clipself')
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS, scope='clipself')
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, scope='clipself')
