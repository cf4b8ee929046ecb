"""Shipped vocabularies: the class counts, ids and splits that the OV-COCO / OV-LVIS / panoptic protocols
rely on, the display-name cleanup for prompts, and text-file vocabularies with their errors."""
import pytest

from clipself.models.vocabulary import Vocabulary, display_name, list_vocabularies, load_vocabulary

OV_COCO_NOVEL = {'airplane', 'bus', 'cat', 'dog', 'cow', 'elephant', 'umbrella', 'tie', 'snowboard',
                 'skateboard', 'cup', 'knife', 'cake', 'couch', 'keyboard', 'sink', 'scissors'}
OV_COCO_BASE = {
    'person', 'bicycle', 'car', 'motorcycle', 'train', 'truck', 'boat', 'bench', 'bird', 'horse', 'sheep',
    'bear', 'zebra', 'giraffe', 'backpack', 'handbag', 'suitcase', 'frisbee', 'skis', 'kite', 'surfboard',
    'bottle', 'fork', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'pizza',
    'donut', 'chair', 'bed', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'microwave', 'oven', 'toaster',
    'refrigerator', 'book', 'clock', 'vase', 'toothbrush'}


@pytest.mark.parametrize('name', ['coco', 'coco-panoptic', 'ov-coco', 'lvis'])
def test_builtin_ids_unique_and_sorted(name):
    v = load_vocabulary(name)
    assert len(set(v.ids)) == len(v) == len(set(v.names))
    assert v.ids == sorted(v.ids)
    assert v.name == name and name in list_vocabularies()


def test_coco_80_with_coco_ids():
    v = load_vocabulary('coco')
    assert len(v) == 80
    assert (v.names[0], v.ids[0]) == ('person', 1)
    assert (v.names[-1], v.ids[-1]) == ('toothbrush', 90)
    assert v.id_to_index[13] == 11 and v.names[11] == 'stop sign'  # id 12 does not exist
    assert 12 not in v.id_to_index
    assert v.isthing is None and v.frequency is None


def test_coco_panoptic_133_things_then_stuff():
    v = load_vocabulary('coco-panoptic')
    coco = load_vocabulary('coco')
    assert len(v) == 133 and sum(v.isthing) == 80
    things = v.where(isthing=True)
    assert [v.names[i] for i in things] == coco.names and [v.ids[i] for i in things] == coco.ids
    stuff = [v.names[i] for i in v.where(isthing=False)]
    assert len(stuff) == 53 and stuff[0] == 'banner' and stuff[-1] == 'rug-merged'
    assert 'wall-other-merged' in stuff and 'sky-other-merged' in stuff
    assert v.ids[-1] == 200


def test_ov_coco_48_base_17_novel():
    v = load_vocabulary('ov-coco')
    assert len(v) == 65
    novel = {v.names[i] for i in v.where(split='novel')}
    base = {v.names[i] for i in v.where(split='base')}
    assert novel == OV_COCO_NOVEL and base == OV_COCO_BASE
    coco = load_vocabulary('coco')
    for name, cid in zip(v.names, v.ids):  # the COCO ids, so instances_*.json annotations map directly
        assert coco.names[coco.id_to_index[cid]] == name


def test_lvis_1203_with_frequencies():
    v = load_vocabulary('lvis')
    assert len(v) == 1203 and v.ids == list(range(1, 1204))
    assert len(v.where(frequency='r')) == 337
    assert len(v.where(frequency='c')) == 461
    assert len(v.where(frequency='f')) == 405
    i = v.names.index('applesauce')
    assert v.frequency[i] == 'r' and v.ids[i] == 13
    assert (v.names[0], v.frequency[0], v.synonyms[0]) == ('aerosol_can', 'c', ['aerosol_can', 'spray_can'])
    assert (v.names[-1], v.frequency[-1]) == ('zucchini', 'c')
    assert all(s and all(isinstance(x, str) for x in s) for s in v.synonyms)
    assert v.synset[v.names.index('person')] == 'person.n.01'


def test_matches_mmdet_class_tuples():
    mmdet = pytest.importorskip('mmdet.datasets')
    assert tuple(load_vocabulary('coco').names) == mmdet.CocoDataset.METAINFO['classes']
    pan = load_vocabulary('coco-panoptic')
    assert tuple(pan.names) == tuple(mmdet.CocoPanopticDataset.METAINFO['classes'])
    ours = load_vocabulary('lvis').names
    theirs = mmdet.LVISV1Dataset.METAINFO['classes']
    # mmdet fixed one typo of the LVIS annotation files; we keep the annotation files' spelling
    assert [(a, b) for a, b in zip(ours, theirs) if a != b] == [
        ('speaker_(stero_equipment)', 'speaker_(stereo_equipment)')]


@pytest.mark.parametrize('raw, shown', [
    ('bolt_(for_a_door)', 'bolt'), ('Band_Aid', 'Band Aid'), ('aerosol_can', 'aerosol can'),
    ('wall-other-merged', 'wall'), ('sky-other-merged', 'sky'), ('door-stuff', 'door'),
    ('window-blind', 'window blind'), ('water-other', 'water'), ('ping-pong_ball', 'ping-pong ball'),
    ('traffic light', 'traffic light'), ('person', 'person'), ('Dixie_cup', 'Dixie cup'),
    ('monitor_(computer_equipment) computer_monitor', 'monitor computer monitor'),
    ('bottle/cup', 'bottle or cup'),
])
def test_display_name(raw, shown):
    assert display_name(raw) == shown
    assert display_name(shown) == shown  # idempotent


def test_display_names_keep_canonical_and_stay_distinct():
    v = load_vocabulary('lvis')
    shown = v.display_names
    assert v.names[v.ids.index(1)] == 'aerosol_can'  # canonical names untouched
    assert len({s.lower() for s in shown}) == 1203
    assert shown[v.names.index('bolt')] == 'bolt'
    assert shown[v.names.index('bow_(weapon)')] == 'bow (weapon)'  # 'bow' alone would collide
    assert shown[v.names.index('bus_(vehicle)')] == 'bus'
    assert all('_' not in s and '(' not in s for s in load_vocabulary('coco-panoptic').display_names)


@pytest.mark.parametrize('alias, key', [('COCO', 'coco'), ('lvis_v1', 'lvis'), ('OV_COCO', 'ov-coco'),
                                        ('coco_panoptic', 'coco-panoptic')])
def test_aliases(alias, key):
    assert load_vocabulary(alias).names == load_vocabulary(key).names


def test_txt_vocabulary(tmp_path):
    f = tmp_path / 'classes.txt'
    f.write_text('# my classes\nred car\n\n  zebra crossing  \nbolt_(for_a_door)\n')
    v = load_vocabulary(f)
    assert v.names == ['red car', 'zebra crossing', 'bolt_(for_a_door)']
    assert v.ids == [0, 1, 2]
    assert v.display_names == ['red car', 'zebra crossing', 'bolt']
    assert load_vocabulary(str(f)).names == v.names


def test_txt_errors(tmp_path):
    empty = tmp_path / 'empty.txt'
    empty.write_text('\n# only a comment\n  \n')
    with pytest.raises(ValueError, match='no class names'):
        load_vocabulary(empty)
    dup = tmp_path / 'dup.txt'
    dup.write_text('cat\ndog\ncat\n')
    with pytest.raises(ValueError, match='duplicate'):
        load_vocabulary(dup)
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        load_vocabulary(tmp_path / 'missing.txt')


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="unknown vocabulary 'objects365'.*coco-panoptic.*lvis"):
        load_vocabulary('objects365')


def test_where_subset_and_validation():
    v = load_vocabulary('ov-coco')
    novel = v.subset(v.where(split='novel'), name='ov-coco-novel')
    assert len(novel) == 17 and set(novel.split) == {'novel'} and novel.ids[0] == 5  # airplane
    with pytest.raises(ValueError, match="no 'frequency'"):
        v.where(frequency='r')
    with pytest.raises(ValueError, match='2 names but 1 ids'):
        Vocabulary(name='x', names=['a', 'b'], ids=[1])
    with pytest.raises(ValueError, match='duplicate category ids'):
        Vocabulary(name='x', names=['a', 'b'], ids=[1, 1])
    with pytest.raises(ValueError, match="1 'split' values"):
        Vocabulary(name='x', names=['a', 'b'], ids=[1, 2], split=['base'])


def test_name_lists_are_checked_at_the_first_difference():
    from clipself.models.vocabulary import check_same_names
    check_same_names(('a', 'b'), ['a', 'b'], source='x.pt', where='the dataset')  # equal: no error
    with pytest.raises(ValueError, match=r"x.pt: class 1 is 'b' but the dataset has 'c' \(sorted ids\)"):
        check_same_names(['a', 'b'], ['a', 'c'], source='x.pt', where='the dataset', rule='sorted ids')
    with pytest.raises(ValueError, match='x.pt has 1 nouns but y.npy has 2'):
        check_same_names(['a'], ['a', 'b'], source='x.pt', where='y.npy', what=('noun', 'nouns'))
