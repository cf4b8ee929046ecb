"""The generated scenes (coloured shapes on two textures) as an mmseg dataset, for the tiny training configs."""
import json
import os
import os.path as osp
import shutil

from mmengine.dist import barrier, is_main_process
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from ..evaluation.segmentation import SEMANTIC_CLASSES, synthetic_semantic_scenes
from .datasets import write_label_png


def write_synthetic_scenes(root: str, *, num_images: int, seed: int, size: int) -> None:
    """``num_images`` scenes of ``size`` px (:func:`~clipself.evaluation.segmentation.synthetic_semantic_scenes`)
    as ``root/img/NNNNN.png`` and their labels (0..9, the order of ``SEMANTIC_CLASSES``) as ``root/ann/NNNNN.png``;
    ``root/meta.json`` (written last) records the arguments."""
    from PIL import Image
    images, labels = synthetic_semantic_scenes(num_images, seed=seed, size=size)
    os.makedirs(osp.join(root, 'img'), exist_ok=True)
    for i, (img, lab) in enumerate(zip(images, labels)):
        Image.fromarray(img).save(osp.join(root, 'img', f'{i:05d}.png'))
        write_label_png(osp.join(root, 'ann', f'{i:05d}.png'), lab)
    with open(osp.join(root, 'meta.json'), 'w') as f:
        json.dump(dict(num_images=num_images, seed=seed, size=size), f)


@DATASETS.register_module()
class SyntheticSceneSegDataset(BaseSegDataset):
    """Generated scenes with semantic labels over the 8 shapes and 2 textures (``SEMANTIC_CLASSES``), written into
    ``data_root`` on first use (by the main process; the others wait) and read back as image/label PNG files.

    Args:
        data_root: the folder of this split (created; a folder holding other scenes is an error).
        num_images, seed, size: what to generate.
    """
    METAINFO = dict(classes=tuple(SEMANTIC_CLASSES))

    def __init__(self, *, data_root: str, num_images: int, seed: int = 0, size: int = 96, **kwargs):
        want = dict(num_images=int(num_images), seed=int(seed), size=int(size))
        meta = osp.join(data_root, 'meta.json')
        if is_main_process() and not osp.isfile(meta):
            tmp = data_root.rstrip('/') + f'.tmp-{os.getpid()}'
            shutil.rmtree(tmp, ignore_errors=True)
            write_synthetic_scenes(tmp, **want)
            if osp.exists(data_root):
                shutil.rmtree(tmp)
                raise FileExistsError(f'{data_root} exists but holds no generated scenes ({meta} is missing)')
            os.makedirs(osp.dirname(osp.abspath(data_root)), exist_ok=True)
            os.replace(tmp, data_root)
        barrier()
        with open(meta) as f:
            found = json.load(f)
        if found != want:
            raise ValueError(f'{data_root} holds scenes generated with {found}, the config asks for {want}: '
                             'remove the folder or choose another data_root')
        super().__init__(data_root=data_root, data_prefix=dict(img_path='img', seg_map_path='ann'),
                         img_suffix='.png', seg_map_suffix='.png', **kwargs)
