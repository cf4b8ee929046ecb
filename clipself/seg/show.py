"""Predictions of a dataset config drawn beside the image and its ground truth (``tools/visualize_seg.py``)."""
import os
from typing import List

import mmcv
import numpy as np
import torch
from mmengine.registry import DefaultScope


def draw_predictions(cfg, out_dir: str, *, num_images: int = 8, device: str = 'cpu') -> List[str]:
    """Run the config's model on the first ``num_images`` of its test set; per image write
    ``out_dir/NAME.png``: the image, then mmseg's ``SegLocalVisualizer`` drawing of the ground truth and of the
    prediction (each over the image). ``cfg``: an mmengine Config (its ``model.clip.pretrained`` or ``load_from``
    already set, e.g. by ``route_test_checkpoint``)."""
    from mmengine.runner import Runner, load_checkpoint
    from mmseg.registry import MODELS, VISUALIZERS
    import clipself.seg  # noqa: F401

    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
        if cfg.get('load_from'):
            load_checkpoint(model, cfg.load_from, map_location='cpu')
        model = model.to(device).eval()
        loader = Runner.build_dataloader(dict(cfg.test_dataloader, num_workers=0, persistent_workers=False))
        vis_cfg = dict(cfg.visualizer, vis_backends=None, save_dir=None, name='clipself_visualize_seg')
        visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.dataset_meta = loader.dataset.metainfo
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for batch in loader:
        with torch.no_grad():
            samples = model.test_step(batch)
        for sample in samples:
            image = mmcv.imread(sample.img_path, channel_order='rgb')
            dst = os.path.join(out_dir, os.path.splitext(os.path.basename(sample.img_path))[0] + '.png')
            visualizer.add_datasample('seg', image, data_sample=sample, draw_gt=True, draw_pred=True,
                                      show=False, with_labels=True, out_file=dst)
            drawn = mmcv.imread(dst, channel_order='rgb')  # [H, 2W, 3]: ground truth | prediction
            mmcv.imwrite(np.concatenate([image, drawn], axis=1)[..., ::-1], dst)
            written.append(dst)
            if len(written) >= num_images:
                return written
    return written
