"""Region classification numbers: the metric's math, known-feature models through the real loader, model and
metric, and a direct computation on the same features."""
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from torchvision.ops import roi_align

from clipself.data.panoptic import COCOPanopticRegionDataset
from clipself.engine.region_eval import CLIPRegionClassifier, RegionClassificationMetric
from clipself.evaluation.predict import region_features
from clipself.evaluation.region_metrics import mean_class_accuracy, summarize, true_class_rank

from .panoptic_fixture import NAMES, dataset_kwargs, write_fixture
from .stubs import StubCLIP


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp('panoptic_eval')
    write_fixture(str(path))
    return str(path)


def _evaluate(model, dataset, *, topk=(1, 5), batch_size=2, **model_kw):
    clf = CLIPRegionClassifier(clip=model, cache_dir=None, **model_kw)
    metric = RegionClassificationMetric(topk=topk, output_dir=None)
    metric.dataset_meta = dataset.metainfo
    items = [dataset[i] for i in range(len(dataset))]
    for start in range(0, len(items), batch_size):
        batch = pseudo_collate(items[start:start + batch_size])
        metric.process(batch, clf.test_step(batch))
    return metric.compute_metrics(metric.results), metric.results


# -- the metric's math ---------------------------------------------------------------------------------
def test_mean_class_accuracy_is_per_class_not_per_region():
    labels = np.array([0, 0, 0, 1])
    hits = np.array([True, True, True, False])
    assert mean_class_accuracy(hits, labels) == 50.0  # per region it would be 75
    assert np.isnan(mean_class_accuracy(hits[:0], labels[:0]))
    assert true_class_rank(np.array([[3, 1, 2], [0, 2, 1], [1, 0, 2]]), np.array([1, 0, 5])).tolist() == [1, 0, 3]


def test_summarize_groups_and_counts():
    recs = [dict(labels=np.array([0, 2]), isthing=np.array([True, False]), ranks={'rois': np.array([0, 3])},
                 num_unknown=2),
            dict(labels=np.array([0, 1]), isthing=np.array([True, True]), ranks={'rois': np.array([4, 1])},
                 num_filtered=1)]
    out = summarize(recs, topk=(1, 5), class_names=['a', 'b', 'c'])
    m = out['metrics']
    assert m['rois.thing.macc1'] == pytest.approx(25.0)  # class a: 1/2, class b: 0/1
    assert m['rois.thing.macc5'] == 100.0 and m['rois.stuff.macc1'] == 0.0 and m['rois.stuff.macc5'] == 100.0
    assert (m['num_regions.thing'], m['num_regions.stuff'], m['num_images']) == (3, 1, 2)
    assert (m['skipped.unknown'], m['skipped.filtered'], m['skipped.not_in_png']) == (2, 1, 0)
    assert out['per_class']['rois']['a'] == {'num': 2, 'top1': 50.0, 'top5': 100.0}
    empty = summarize([dict(labels=np.array([0]), isthing=np.array([True]), ranks={'rois': np.array([0])})])
    assert np.isnan(empty['metrics']['rois.stuff.macc1'])  # no stuff regions: NaN, not 0


# -- a model whose features are known --------------------------------------------------------------------
def test_known_features_give_the_expected_accuracies(root):
    """Per-pixel one-hot features (patch 1), crops = the exact box: every region's feature points at its own
    class. Text: cat = (e_cat + e_dog)/sqrt2, dog = (e_dog + 1.5 e_extra)/|.|, so dog regions rank cat first
    and dog second; everything else is right."""
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=32, crop_scale=1.0))
    text = torch.eye(5)[:4].clone()
    text[0] = F.normalize(torch.tensor([1., 1, 0, 0, 0]), dim=0)
    text[1] = F.normalize(torch.tensor([0., 1, 0, 0, 1.5]), dim=0)
    metrics, results = _evaluate(StubCLIP(patch=1), ds, topk=(1, 2, 5), class_embeddings=text)
    for kind in ('rois', 'crops', 'maskpool'):
        assert metrics[f'{kind}.thing.macc1'] == pytest.approx(50.0), kind  # cat 2/2, dog 0/2
        assert metrics[f'{kind}.thing.macc2'] == 100.0 and metrics[f'{kind}.thing.macc5'] == 100.0
        assert metrics[f'{kind}.stuff.macc1'] == 100.0, kind  # sky 3/3, grass 2/2 (one of them in two parts)
    assert (metrics['num_regions.thing'], metrics['num_regions.stuff'], metrics['num_images']) == (4, 5, 3)
    assert (metrics['skipped.unknown'], metrics['skipped.filtered'], metrics['skipped.not_in_png']) == (1, 1, 1)
    assert [r['image_id'] for r in results] == [1, 2, 3]
    # the same with the swap undone: all right
    metrics, _ = _evaluate(StubCLIP(patch=1), ds, class_embeddings=torch.eye(5)[:4])
    assert all(metrics[f'{k}.{g}.macc1'] == 100.0 for k in ('rois', 'crops', 'maskpool') for g in ('thing', 'stuff'))


def _direct_mask_weights(region_map: np.ndarray, k: int, scale: float, patch: int, grid: int) -> np.ndarray:
    """Exact token weights for a rational scale n/d: each original pixel -> n x n sub-pixels of 1/d dense px,
    a token = (patch d)^2 sub-pixels."""
    fr = Fraction(scale).limit_denominator(64)
    n, d = fr.numerator, fr.denominator
    up = np.repeat(np.repeat(region_map, n, 0), n, 1)
    side = grid * patch * d
    pad = -np.ones((side, side), np.int64)
    pad[:min(side, up.shape[0]), :min(side, up.shape[1])] = up[:side, :side]
    blocks = pad.reshape(grid, patch * d, grid, patch * d)
    return np.stack([(blocks == i).mean((1, 3)) for i in range(k)]) if k else np.zeros((0, grid, grid))


def test_metric_equals_a_direct_computation_on_the_same_features(root):
    """Random class vectors, 16-px patches (regions mix within tokens, the tiny cat is smaller than a patch):
    the pipeline's accuracies equal top-k / per-class means computed here from the stub's dense map with
    torchvision's RoIAlign, explicit mask weights, and the dataset's crops."""
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=32))
    stub = StubCLIP(patch=16, mode='random', dim=6, seed=3)
    text = F.normalize(torch.randn(4, 6, generator=torch.Generator().manual_seed(7)), dim=-1)
    metrics, _ = _evaluate(stub, ds, topk=(1, 2), class_embeddings=text, batch_size=3, mask_weights='area')

    ranks = {k: [] for k in ('rois', 'crops', 'maskpool')}
    labels, isthing = [], []
    for i in range(len(ds)):
        item = ds[i]
        dense = stub.encode_dense(item['image'][None].float() / 255)  # shape: [1, D, 4, 4]
        k = len(item['labels'])
        feats = {
            'rois': roi_align(dense, [item['boxes'] / 16], output_size=1, spatial_scale=1.0, sampling_ratio=-1,
                              aligned=True)[:, :, 0, 0],
            'maskpool': torch.einsum('khw,dhw->kd', torch.from_numpy(_direct_mask_weights(
                item['region_map'].numpy(), k, item['scale'], 16, 4)).float(), dense[0]),
            'crops': stub.encode_image(item['crops'].float() / 255),
        }
        for kind, f in feats.items():
            scores = F.normalize(f, dim=-1) @ text.T
            order = scores.argsort(dim=1, descending=True)
            ranks[kind] += [int((order[j] == item['labels'][j]).nonzero()) for j in range(k)]
        labels += item['labels'].tolist()
        isthing += item['isthing'].tolist()
    labels, isthing = np.array(labels), np.array(isthing)
    checked = 0
    for kind, r in ranks.items():
        r = np.array(r)
        for group, sel in (('thing', isthing), ('stuff', ~isthing)):
            for t in (1, 2):
                per_class = [np.mean(r[sel & (labels == c)] < t) for c in sorted(set(labels[sel]))]
                assert metrics[f'{kind}.{group}.macc{t}'] == pytest.approx(100 * np.mean(per_class)), (kind, group, t)
                checked += 1
    assert checked == 12
    # not a degenerate case: some regions are right and some wrong
    assert 0 < metrics['rois.thing.macc1'] < 100 or 0 < metrics['maskpool.stuff.macc1'] < 100


# -- the classifier around a real (tiny) CLIP ----------------------------------------------------------------
@pytest.fixture(scope='module')
def tiny_clip():
    from clipself.models import build_clip
    torch.manual_seed(0)
    return build_clip('EVA02-Tiny-8')


def test_borrowed_clip_is_used_not_owned_and_its_mode_is_restored(root, tiny_clip):
    clf = CLIPRegionClassifier(clip=tiny_clip, class_embeddings=torch.randn(4, 64), cache_dir=None)
    assert clf.clip_model is tiny_clip
    assert list(clf.parameters()) == [] and clf.state_dict() == {}
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=64))
    batch = pseudo_collate([ds[i] for i in range(len(ds))])
    tiny_clip.train()
    try:
        records = clf.val_step(batch)
        assert tiny_clip.training
    finally:
        tiny_clip.eval()
    assert [len(r['labels']) for r in records] == [5, 2, 2]
    # batched == one image at a time
    for i, rec in enumerate(records):
        alone = clf.val_step(pseudo_collate([ds[i]]))[0]
        for kind in ('rois', 'crops', 'maskpool'):
            np.testing.assert_array_equal(alone['ranks'][kind], rec['ranks'][kind])


def test_borrowed_model_runs_in_eval_mode(root):
    stub = StubCLIP(patch=16)
    stub.train()
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=32, max_images=1))
    region_features(stub, images=[ds[0]['image']], boxes=[ds[0]['boxes']], crops=[ds[0]['crops']],
                    region_maps=[ds[0]['region_map']], scales=[ds[0]['scale']])
    assert stub.calls == [False] and stub.training


def test_text_embeddings_are_cached_per_text_tower(root, tiny_clip, tmp_path, monkeypatch):
    import clipself.evaluation.class_embeddings as ce
    from clipself.models import build_clip
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=64, max_images=1))
    clf = CLIPRegionClassifier(clip=tiny_clip, cache_dir=str(tmp_path), templates='single')
    first = clf.class_embeddings_for(ds.classes)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and first.shape == (4, 64)

    def boom(*a, **k):
        raise AssertionError('recomputed despite the cache')
    monkeypatch.setattr(ce, 'build_text_embeddings', boom)
    again = CLIPRegionClassifier(clip=tiny_clip, cache_dir=str(tmp_path), templates='single')
    torch.testing.assert_close(again.class_embeddings_for(ds.classes), first)
    monkeypatch.undo()
    torch.manual_seed(1)
    other = CLIPRegionClassifier(clip=build_clip('EVA02-Tiny-8'), cache_dir=str(tmp_path), templates='single')
    other.class_embeddings_for(ds.classes)
    assert len(list(tmp_path.iterdir())) == 2  # another text tower, another entry


def test_class_embeddings_from_a_file(root, tiny_clip, tmp_path):
    from clipself.models.text import save_text_embeddings
    ds = COCOPanopticRegionDataset(**dataset_kwargs(root, dense_size=64, crop_size=64, max_images=1))
    emb = F.normalize(torch.randn(4, 64), dim=-1)
    good, bad = tmp_path / 'good.pt', tmp_path / 'bad.pt'
    save_text_embeddings(good, NAMES, emb, model_name='EVA02-Tiny-8')
    save_text_embeddings(bad, ['cat', 'dog', 'sky', 'grass-merged'], emb, model_name='EVA02-Tiny-8')
    clf = CLIPRegionClassifier(clip=tiny_clip, class_embeddings=str(good), cache_dir=None)
    torch.testing.assert_close(clf.class_embeddings_for(ds.classes), emb)
    with pytest.raises(ValueError, match="class 2 is 'sky'"):
        CLIPRegionClassifier(clip=tiny_clip, class_embeddings=str(bad), cache_dir=None).class_embeddings_for(ds.classes)


def test_a_clipself_training_checkpoint_loads_its_student():
    from mmengine.runner.checkpoint import load_state_dict
    from clipself.models import build_clip
    torch.manual_seed(3)
    student, teacher = build_clip('EVA02-Tiny-8'), build_clip('EVA02-Tiny-8')
    sd = {f'student.clip.{k}': v for k, v in student.clip.state_dict().items()}
    sd.update({f'teacher.clip.{k}': v for k, v in teacher.clip.state_dict().items()})
    clf = CLIPRegionClassifier(clip=dict(model_name='EVA02-Tiny-8'), cache_dir=None)
    load_state_dict(clf, sd, strict=True)
    for k, v in student.clip.state_dict().items():
        torch.testing.assert_close(clf.clip.clip.state_dict()[k], v)
