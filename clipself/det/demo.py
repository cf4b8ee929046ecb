"""Detect any typed vocabulary with a trained F-ViT and draw the boxes (``tools/demo_detect.py``)."""
import os
import tempfile
from typing import List, Optional, Sequence

import torch

from ..data.files import IMAGE_EXTS, list_images


def parse_classes(text: str) -> List[str]:
    """``"cat, sofa,remote"`` (or a .txt file, one name per line) -> ``['cat', 'sofa', 'remote']``."""
    if os.path.isfile(text) and text.endswith('.txt'):
        with open(text, encoding='utf-8') as f:
            names = [x.strip() for x in f if x.strip() and not x.startswith('#')]
    else:
        names = [x.strip() for x in text.split(',') if x.strip()]
    if not names:
        raise ValueError('no class names given')
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'duplicate class names {dup}')
    return names


class OpenVocabDetector:
    """A trained F-ViT (config + mmengine checkpoint) that detects ``class_names`` typed at run time.

    The CLIP weights come from the checkpoint (the config's CLIP file is not needed); the class embeddings are
    computed with the checkpoint's CLIP text tower (ViLD prompt ensemble). Classes the detector was trained on
    (the checkpoint's dataset classes minus the config's novel classes) get the base CLIP weight ``alpha``,
    others the novel weight ``beta``.
    """

    def __init__(self, config: str, checkpoint: str, class_names: Sequence[str], *, device: str = 'cpu'):
        from mmengine.config import Config
        from mmengine.registry import DefaultScope
        from mmdet.registry import MODELS
        from mmdet.utils import register_all_modules

        from ..models.text import save_text_embeddings
        from .vocab import novel_names
        import clipself.det  # noqa: F401

        register_all_modules(init_default_scope=False)
        cfg = Config.fromfile(config)
        names = list(class_names)
        head = cfg.model.roi_head.bbox_head
        train_novel = novel_names(head.get('novel_classes'))
        dim = head.fc_out_channels
        # placeholder vocabulary (replaced below): no CLIP weights file, no embeddings file needed
        cfg.model.backbone.pretrained = None
        self._tmp = tempfile.TemporaryDirectory()
        emb_file = os.path.join(self._tmp.name, 'placeholder.pt')
        save_text_embeddings(emb_file, names, torch.zeros(len(names), dim), model_name=cfg.model.backbone.model_name)
        head.classifier = dict(head.classifier, embeddings=emb_file, class_names=None)
        head.num_classes = len(names)
        head.novel_classes = None
        if cfg.model.roi_head.get('mask_head') is not None:
            cfg.model.roi_head.mask_head.num_classes = len(names)
        with DefaultScope.overwrite_default_scope('mmdet'):
            model = MODELS.build(cfg.model)
        ckpt = torch.load(checkpoint, map_location='cpu', weights_only=True)
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
        if not isinstance(state, dict) or not any(k.startswith('roi_head.') for k in state):
            raise ValueError(f'{checkpoint} is not an F-ViT training checkpoint (no roi_head weights): the demo '
                             'needs a trained detector (tools/train.py writes work_dirs/CONFIG/epoch_N.pth)')
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.endswith('class_embeddings')]
        if missing:
            raise ValueError(f'{checkpoint} does not fit {config}: {len(missing)} missing keys, e.g. {missing[:3]}')
        trained = list((ckpt.get('meta') or {}).get('dataset_meta', {}).get('classes') or [])
        base = set(trained) - set(train_novel)
        model.set_vocabulary(names, novel=[n not in base for n in names])
        self.model = model.to(device).eval()
        self.class_names = names
        self.cfg = cfg
        from mmcv.transforms import Compose
        pipeline = [t for t in cfg.test_dataloader.dataset.pipeline if t['type'] != 'LoadAnnotations']
        with DefaultScope.overwrite_default_scope('mmdet'):
            self.pipeline = Compose(pipeline)

    @torch.no_grad()
    def __call__(self, image_path: str):
        """One image -> a ``DetDataSample`` whose ``pred_instances`` hold ``bboxes`` (xyxy, image pixels),
        ``scores``, ``labels`` (indices into ``class_names``)."""
        from mmengine.dataset import pseudo_collate
        data = self.pipeline(dict(img_path=image_path, img_id=0))
        return self.model.test_step(pseudo_collate([data]))[0]

    def draw(self, image_path: str, result, out_file: str, score_thr: float = 0.3) -> None:
        """Draw the detections above ``score_thr`` with mmdet's visualiser into ``out_file``."""
        import mmcv
        from mmdet.visualization import DetLocalVisualizer
        img = mmcv.imread(image_path, channel_order='rgb')
        vis = DetLocalVisualizer(name=f'fvit_demo_{id(self)}_{os.getpid()}')
        vis.dataset_meta = dict(classes=tuple(self.class_names), palette='random')
        os.makedirs(os.path.dirname(os.path.abspath(out_file)), exist_ok=True)
        vis.add_datasample('detections', img, data_sample=result, draw_gt=False, pred_score_thr=score_thr,
                           out_file=out_file)


def run(images: str, *, config: str, checkpoint: str, classes: str, out: str, score_thr: float = 0.3,
        device: str = 'cpu', detector: Optional[OpenVocabDetector] = None) -> List[str]:
    """Detect ``classes`` in an image or a folder; write pictures (``out``: a file for one image, else a folder).
    Returns the written paths; prints one line per detection above the threshold."""
    files = list_images(images)
    det = detector or OpenVocabDetector(config, checkpoint, parse_classes(classes), device=device)
    one = len(files) == 1 and not os.path.isdir(images) and os.path.splitext(out)[1].lower() in IMAGE_EXTS
    written = []
    for path in files:
        dst = out if one else os.path.join(out, os.path.splitext(os.path.basename(path))[0] + '.png')
        result = det(path)
        det.draw(path, result, dst, score_thr)
        p = result.pred_instances
        keep = p.scores >= score_thr
        for b, s, label in zip(p.bboxes[keep].tolist(), p.scores[keep].tolist(), p.labels[keep].tolist()):
            print(f'{os.path.basename(path)}: {det.class_names[label]} {s:.2f} '
                  f'[{b[0]:.0f}, {b[1]:.0f}, {b[2]:.0f}, {b[3]:.0f}]')
        written.append(dst)
    return written
