"""The plain-torch steps of training-free segmentation (no mm* import): synonyms, probabilities, confusion and IoU
by hand, and the generated-scenes figure that ``make demo`` reports."""
import numpy as np
import pytest
import torch

from clipself.data.synthetic import SHAPES
from clipself.evaluation.segmentation import (SEMANTIC_CLASSES, ClassQueries, class_probabilities, confusion_matrix,
                                              iou_from_confusion, label_map, synthetic_semantic_miou,
                                              synthetic_semantic_scenes, to_pixels)
from clipself.models import build_clip


def test_confusion_and_iou_by_hand():
    gt = torch.tensor([[0, 0, 1, 255], [2, 2, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 0], [2, 0, 1, 1]])
    conf = confusion_matrix(pred, gt, 3)
    assert conf.tolist() == [[1, 1, 0], [0, 3, 0], [1, 0, 1]]
    miou, iou = iou_from_confusion(conf)
    assert iou.tolist() == pytest.approx([100 / 3, 75.0, 50.0]) and miou == pytest.approx((100 / 3 + 125) / 3)
    with pytest.raises(ValueError, match=r'\[3\] are outside the 3 classes'):
        confusion_matrix(pred, gt.clone().fill_(3), 3)


def test_a_class_scores_as_its_best_synonym():
    queries = ClassQueries.from_lines(['sky', 'person, man, woman', '# comment', '', 'car'])
    assert queries.names == ['sky', 'person', 'car'] and queries.query_class.tolist() == [0, 1, 1, 1, 2]
    sims = torch.tensor([0.1, 0.0, 0.3, 0.2, 0.25]).view(1, 5, 1, 1)
    probs = class_probabilities(sims, queries.query_class, 3, logit_scale=10.0)
    soft = torch.softmax(sims.flatten() * 10, 0)
    assert probs.flatten().tolist() == pytest.approx(soft[[0, 2, 4]].tolist())


def test_semantic_scenes_label_every_pixel():
    images, labels = synthetic_semantic_scenes(3, seed=1, size=64)
    assert images.shape == (3, 64, 64, 3) and images.dtype == np.uint8 and labels.shape == (3, 64, 64)
    assert labels.min() >= 0 and labels.max() < len(SEMANTIC_CLASSES)
    assert set(np.unique(labels[labels >= len(SHAPES)])) <= {8, 9}   # one texture per scene
    assert all(len(set(np.unique(lab[lab >= 8]))) == 1 for lab in labels)


def test_synthetic_semantic_miou_on_a_perfect_and_a_random_model():
    model = build_clip('EVA02-Tiny-8')
    emb = torch.nn.functional.normalize(torch.randn(10, model.embed_dim), dim=-1)
    res = synthetic_semantic_miou(model, emb, num_images=4, size=64, batch_size=3, return_predictions=True)
    assert set(res['iou']) == set(SEMANTIC_CLASSES) and 0.0 <= res['miou'] <= 100.0
    assert res['predictions'].shape == res['labels'].shape == (4, 64, 64)
    # a model whose dense map is the one-hot of the true class (upsampled) scores 100
    _, labels = synthetic_semantic_scenes(4, size=64)

    class Oracle(torch.nn.Module):
        patch_size = (1, 1)
        image_mean, image_std = model.image_mean, model.image_std

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))
            self.calls = 0

        def encode_dense(self, images, last_block=None):
            lab = torch.from_numpy(labels[self.calls:self.calls + len(images)])
            self.calls += len(images)
            return torch.nn.functional.one_hot(lab, 10).permute(0, 3, 1, 2).float()

    res = synthetic_semantic_miou(Oracle(), torch.eye(10), num_images=4, size=64, batch_size=3)
    assert res['miou'] == pytest.approx(100.0)
    with pytest.raises(ValueError, match='one row per class'):
        synthetic_semantic_miou(model, emb[:9], num_images=1, size=64)




def test_upsampling_covers_the_dropped_remainder_and_the_threshold_sets_background():
    grid = torch.tensor([[[[0.0, 1.0]]]])                          # 1 x 2 tokens of 4 px, image 5 x 10 px
    px = to_pixels(grid, (5, 10), (4, 4))
    assert px.shape == (1, 1, 5, 10)
    assert px[0, 0, 0].tolist() == pytest.approx([0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1, 1, 1])  # bilinear, edge
    assert torch.equal(px[0, 0, 4], px[0, 0, 0])                   # the remainder row repeats the last one
    probs = torch.tensor([[0.1, 0.5], [0.5, 0.3], [0.4, 0.2]]).view(1, 3, 1, 2)
    assert label_map(probs).tolist() == [[[1, 0]]]
    assert label_map(probs, bg_threshold=0.55, bg_index=2).tolist() == [[[2, 2]]]
    assert label_map(probs, bg_threshold=0.45, bg_index=2).tolist() == [[[1, 0]]]
