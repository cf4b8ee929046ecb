"""Run-time guards of open-vocabulary detection runs."""
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmdet.registry import HOOKS

from ..engine.model_wrappers import unwrap_model


def check_vocabulary(model_classes: Sequence[str], dataset_classes: Sequence[str], what: str,
                     source: Optional[str] = None) -> None:
    """Labels are indices into both lists: they must be equal, or every metric would be silently wrong."""
    a, b = list(model_classes), list(dataset_classes)
    if a == b:
        return
    diff = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y][:3]
    raise ValueError(f'the detector classifies into {len(a)} classes{f" (from {source})" if source else ""} but the '
                     f'{what} dataset has {len(b)} classes; first differences (index, model, dataset): {diff}. '
                     'Make the text-embedding file from the dataset\'s class list, in its order '
                     '(tools/gen_text_embeddings.py / tools/prepare_ov_*.py).')


@HOOKS.register_module()
class OVDetectionHook(Hook):
    """Before training / validation / testing: the detector's vocabulary (its text-embedding file) must list the
    dataset's classes in the same order; and metrics without an ``outfile_prefix`` write their json results
    into the run's log folder (``{log_dir}/results_{val_epoch_N|test}``)."""

    priority = 'VERY_HIGH'

    def _check(self, runner, loader, what: str) -> None:
        model = unwrap_model(runner.model)
        names = getattr(model, 'class_names', None)
        if names is None:
            return
        classes = loader.dataset.metainfo.get('classes')
        if classes is None:
            return
        head = model.roi_head.bbox_head.fc_cls
        check_vocabulary(names, classes, what, getattr(head, 'embeddings_file', None))

    @staticmethod
    def _set_prefix(loop, path: str) -> None:
        for metric in getattr(getattr(loop, 'evaluator', None), 'metrics', []):
            if hasattr(metric, 'outfile_prefix') and (metric.outfile_prefix is None
                                                      or getattr(metric, '_auto_prefix', False)):
                metric.outfile_prefix = path
                metric._auto_prefix = True

    def before_train(self, runner) -> None:
        self._check(runner, runner.train_dataloader, 'training')

    def before_val(self, runner) -> None:
        self._check(runner, runner.val_dataloader, 'validation')

    def before_val_epoch(self, runner) -> None:
        self._set_prefix(runner.val_loop, osp.join(runner.log_dir, f'results_val_epoch_{runner.epoch}'))

    def before_test(self, runner) -> None:
        self._check(runner, runner.test_dataloader, 'test')

    def before_test_epoch(self, runner) -> None:
        self._set_prefix(runner.test_loop, osp.join(runner.log_dir, 'results_test'))
