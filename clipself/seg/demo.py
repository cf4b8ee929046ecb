"""Segment any typed vocabulary in your images, training-free, and draw it (``tools/demo_segment.py``)."""
import os
from typing import List, Optional, Sequence, Union

import mmcv

from ..data.image_files import list_images
from .inference import build_segmentor, segment_files
from .visualization import save_overlay


def demo_classes(text: str) -> Union[str, List[str]]:
    """``"sky, road,car"`` -> ``['sky', 'road', 'car']`` (one class each); the path of a ``.txt`` file (one class per
    line, synonyms comma-separated) is returned as it is."""
    if text.endswith('.txt'):
        if not os.path.isfile(text):
            raise FileNotFoundError(f'class-name file {text} not found')
        return text
    names = [x.strip() for x in text.split(',') if x.strip()]
    if not names:
        raise ValueError('empty class list: give --classes "sky,road,car" or a .txt file')
    return names


def run(images: str, *, model_name: str, pretrained: Optional[str], classes: str, out: str,
        last_block: str = 'maskclip', short_side: int = 448, crop: int = 224, stride: int = 112,
        logit_scale: float = 40.0, templates: Union[str, Sequence[str]] = 'imagenet', device: str = 'cpu') -> List[str]:
    """Segment ``images`` (a file or folder) into ``classes``; writes ``out/NAME.png`` per image (overlay and
    legend) and returns their paths."""
    files = list_images(images)
    model = build_segmentor(model_name=model_name, pretrained=pretrained, classes=demo_classes(classes),
                            last_block=last_block, crop=crop, stride=stride, logit_scale=logit_scale,
                            templates=templates, device=device)
    written = []
    for path, sample in zip(files, segment_files(model, files, short_side=short_side)):
        labels = sample.pred_sem_seg.data[0].cpu().numpy()
        image = mmcv.imread(path, channel_order='rgb')
        dst = os.path.join(out, os.path.splitext(os.path.basename(path))[0] + '.png')
        title = f'{model_name} ({os.path.basename(pretrained) if pretrained else "random weights"}), {last_block}'
        save_overlay(dst, image, labels, model.classes.names, title=title)
        written.append(dst)
    return written
