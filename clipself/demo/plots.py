"""The demo's pictures: loss curves, dense features before / after distillation, F-ViT's detections."""
import json
import os
from typing import Dict

from .settings import MODEL, ROOT, SCENE


def save_pictures(out_dir: str, curves: dict, clip_path: str, *, files_after: Dict[str, str], val_root: str,
                  model_name: str = MODEL):
    """``loss_curves.png`` (``curves``: variant -> ``[(iteration, loss_cosine)]``) and ``dense_features_{1,2}.png``
    (the first two held-out scenes, the original CLIP vs the proposals student ``files_after['after']``)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from PIL import Image

    from ..data.synthetic import SHAPES
    from ..models import build_clip
    from ..models.text import build_text_embeddings
    from ..visualization import dense_views, save_dense_figure
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for variant, pts in curves.items():
        if pts:
            ax.plot(*zip(*pts), label=variant.replace('after', 'proposals').replace('proposals_patches', 'patches'))
    ax.set_xlabel('iteration')
    ax.set_ylabel('loss_cosine (1 - cos)')
    ax.legend(fontsize=8)
    ax.set_title('CLIPSelf distillation on the generated scenes', fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, 'loss_curves.png'), dpi=100)
    plt.close(fig)

    before = build_clip(model_name, pretrained=clip_path)
    after = build_clip(model_name, pretrained=files_after['after'])
    with open(os.path.join(val_root, 'annotations', 'instances.json')) as f:
        instances = json.load(f)
    names = {c['id']: c['name'] for c in instances['categories']}
    for i in range(2):
        image_id = instances['images'][i]['id']
        present = [names[a['category_id']] for a in instances['annotations'] if a['image_id'] == image_id]
        queries = list(dict.fromkeys(present))[:3] or list(SHAPES[:3])  # the shapes in this scene
        text = build_text_embeddings(before, queries)
        image = Image.open(os.path.join(val_root, 'images', instances['images'][i]['file_name']))
        rows = [('original CLIP', dense_views(before, image, size=SCENE, text_embeddings=text)),
                ('after CLIPSelf (proposals)', dense_views(after, image, size=SCENE, text_embeddings=text))]
        save_dense_figure(os.path.join(out_dir, f'dense_features_{i + 1}.png'), image, rows, queries)


def save_detections(out_dir: str, detectors: Dict[str, str], image_dir: str, num: int = 3, config: str = None):
    """``detections.png``: F-ViT's detections (score >= 0.3) on the first held-out scenes, one row per backbone
    (``config``: the detectors' config, default ``configs/fvit/fvit_demo_synthetic.py``)."""
    from PIL import Image

    from ..data.synthetic import SHAPES
    from ..det.inference import OpenVocabDetector
    config = config or os.path.join(ROOT, 'configs', 'fvit', 'fvit_demo_synthetic.py')
    images = sorted(os.listdir(image_dir))[:num]
    rows = []
    for tag, ckpt in detectors.items():
        det = OpenVocabDetector(config, ckpt, SHAPES)
        tiles = []
        for name in images:
            dst = os.path.join(out_dir, 'detections', tag, name)
            det.draw(os.path.join(image_dir, name), det(os.path.join(image_dir, name)), dst, score_thr=0.3)
            tiles.append(Image.open(dst).convert('RGB'))
        rows.append(tiles)
    w, h = rows[0][0].size
    canvas = Image.new('RGB', (w * len(images), h * len(rows)), 'white')
    for r, tiles in enumerate(rows):
        for c, tile in enumerate(tiles):
            canvas.paste(tile.resize((w, h)), (c * w, r * h))
    canvas.save(os.path.join(out_dir, 'detections.png'))
