"""CLIPSelfDataset and the CLIPSelf model: boxes land on the right pixels, bad images are skipped and
counted, the right weights train, the teacher stays frozen, the losses behave, the ensemble exports."""
import json
import logging

import numpy as np
import pytest
import torch
from PIL import Image

from clipself.data.distill_dataset import CLIPSelfDataset
from clipself.distill import ensemble_state_dict


def _write_images(tmp_path, n=3, size=(90, 150)):
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    images, props = [], []
    for i in range(n):
        arr = np.full((*size, 3), 40, np.uint8)
        arr[30:60, 100:130] = (250, 10, 10)  # a red square at x 100..130, y 30..60
        Image.fromarray(arr).save(img_dir / f'{i}.png')
        images.append(dict(id=i + 1, file_name=f'{i}.png', height=size[0], width=size[1]))
        props.append(dict(image_id=i + 1, bbox=[100, 30, 30, 30], score=0.9, category_id=1))
    (tmp_path / 'ann.json').write_text(json.dumps(dict(images=images, annotations=[], categories=[])))
    (tmp_path / 'props.json').write_text(json.dumps(props))
    return img_dir


def test_student_boxes_follow_the_resize(tmp_path):
    _write_images(tmp_path)
    ds = CLIPSelfDataset(data_root=str(tmp_path), ann_file='ann.json', img_dir='images', sampler='proposals',
                         proposal_file='props.json', student_size=100, crop_size=32)
    item = ds[0]
    assert item['image'].shape == (3, 100, 100) and item['crops'].shape == (1, 3, 32, 32)
    x1, y1, x2, y2 = item['boxes'][0].round().int().tolist()
    assert (x1, y1, x2, y2) == (67, 20, 87, 40)  # scale 100/150
    region = item['image'][:, y1 + 1:y2 - 1, x1 + 1:x2 - 1].float().mean((1, 2))
    assert region[0] > 200 and region[1] < 60  # the red square
    assert (item['image'][:, 61:] == 0).all()  # 90 * 100/150 = 60 rows of image, then black padding
    # the teacher crop is the 1.5x box: the square fills the middle, background around it
    crop = item['crops'][0].float()
    assert crop[0, 12:20, 12:20].mean() > 200 and crop[0, :3, :3].mean() < 60
    assert item['skipped'] == 0


def test_grid_sampler_and_image_folder(tmp_path):
    _write_images(tmp_path, n=2)
    ds = CLIPSelfDataset(data_root=str(tmp_path), img_dir='images', sampler='grid', student_size=64, crop_size=32)
    assert len(ds) == 2
    item = ds[1]
    k = len(item['boxes'])
    assert 1 <= k <= 20 and item['crops'].shape == (k, 3, 32, 32)
    assert item['boxes'][:, 2].max() <= 64 + 1e-4 and item['boxes'][:, 3].max() <= 64 * 90 / 150 + 1e-4


def test_unreadable_images_are_skipped_and_counted(tmp_path, caplog):
    img_dir = _write_images(tmp_path, n=3)
    (img_dir / '1.png').write_bytes(b'not a png at all')
    ds = CLIPSelfDataset(data_root=str(tmp_path), ann_file='ann.json', img_dir='images', student_size=64,
                         crop_size=32)
    with caplog.at_level(logging.WARNING):
        item = ds[1]
    assert item['skipped'] >= 1 and item['image_id'] != 2
    assert '1.png' in caplog.text


def test_bad_configuration_errors(tmp_path):
    _write_images(tmp_path)
    with pytest.raises(FileNotFoundError, match='nope.json'):
        CLIPSelfDataset(data_root=str(tmp_path), ann_file='nope.json', img_dir='images')
    with pytest.raises(ValueError, match='proposal_file'):
        CLIPSelfDataset(data_root=str(tmp_path), ann_file='ann.json', img_dir='images', sampler='proposals')
    (tmp_path / 'bad_props.json').write_text(json.dumps([dict(image_id=1)]))
    with pytest.raises(ValueError, match='entry 0 needs'):
        CLIPSelfDataset(data_root=str(tmp_path), ann_file='ann.json', img_dir='images', sampler='proposals',
                        proposal_file='bad_props.json')


# -- the model ------------------------------------------------------------------------------------------
@pytest.fixture()
def model():
    """The mmengine model (``type='CLIPSelf'``): the plain module behind the runner's batch format."""
    from clipself.engine.clipself_model import CLIPSelfModel
    torch.manual_seed(0)
    return CLIPSelfModel(clip=dict(model_name='EVA02-Tiny-8'), loss_image_weight=1.0)


def _batch(n_img=2, k=3, s=64, t=64):
    g = torch.Generator().manual_seed(0)
    return dict(image=[torch.randint(0, 255, (3, s, s), dtype=torch.uint8, generator=g) for _ in range(n_img)],
                boxes=[torch.tensor([[0., 0., 32., 32.], [16., 8., 64., 40.], [8., 8., 24., 56.]])[:k]] * n_img,
                crops=[torch.randint(0, 255, (k, 3, t, t), dtype=torch.uint8, generator=g) for _ in range(n_img)],
                whole=[torch.randint(0, 255, (3, t, t), dtype=torch.uint8, generator=g) for _ in range(n_img)],
                skipped=[0, 1])


def test_what_trains_and_what_is_frozen(model):
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith('student.clip.visual.trunk.blocks.') for n in trainable)
    assert len({n.split('.')[5] for n in trainable}) == 3  # all 3 blocks
    model.train()
    assert model.student.training and not model.teacher.training
    losses = model(**_batch(), mode='loss')
    (losses['loss_cosine'] + losses['loss_image']).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.student.clip.visual.trunk.blocks[0].attn.q_proj.weight.grad.abs().sum() > 0
    assert model.student.clip.visual.trunk.pos_embed.grad is None  # frozen
    assert losses['skipped_images'] == 1 and losses['num_regions'] == 6

    from clipself.distill.model import CLIPSelf
    partial = CLIPSelf(clip=dict(model_name='EVA02-Tiny-8'), train_blocks=[-1])
    assert {n.split('.')[5] for n, p in partial.named_parameters() if p.requires_grad} == {'2'}
    with pytest.raises(ValueError, match='outside the 3 blocks'):
        CLIPSelf(clip=dict(model_name='EVA02-Tiny-8'), train_blocks=[5])


def test_plain_module_gives_the_runner_models_losses_and_state_dict(model):
    """``clipself.distill.CLIPSelf`` from any loop (stacked tensors, no mmengine) computes what the mmengine model
    computes on the dataset's lists, bit for bit, and both have the same state dict keys (checkpoints load into
    either)."""
    from clipself.distill import CLIPSelf
    torch.manual_seed(0)
    plain = CLIPSelf(clip=dict(model_name='EVA02-Tiny-8'), loss_image_weight=1.0)
    plain.load_state_dict(model.state_dict())
    assert list(plain.state_dict()) == list(model.state_dict())
    batch = _batch()
    torch.manual_seed(1)
    expected = model(**batch, mode='loss')
    torch.manual_seed(1)
    got = plain.loss(torch.stack(batch['image']), batch['boxes'], torch.cat(batch['crops']),
                     whole=torch.stack(batch['whole']))
    for k in ('loss_cosine', 'loss_image', 'num_regions'):
        assert torch.equal(got[k], expected[k]), k
    assert 'skipped_images' not in got  # a count of the dataset, logged by the runner's model
    assert torch.equal(plain(batch['image'], batch['boxes']), model(**batch, mode='tensor'))


def test_image_term_is_zero_when_student_equals_teacher(model):
    model.train()
    losses = model(**_batch(), mode='loss')
    assert losses['loss_image'].abs() < 1e-5  # student == teacher at the start
    assert losses['loss_cosine'] > 0.05       # while the dense path differs from the crops
    with torch.no_grad():  # move the student away: the image term grows
        for p in model.student.tower.blocks.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    assert model(**_batch(), mode='loss')['loss_image'] > 1e-3


def test_image_term_can_use_a_random_subset_of_each_images_crops(model):
    seen = []
    encode = model.student.encode_image
    model.student.encode_image = lambda x: seen.append(len(x)) or encode(x)
    model.train()
    full = model(**_batch(), mode='loss')['loss_image']
    model.loss_image_crops = 3  # every crop (3 per image), in another order: the same mean
    assert torch.allclose(model(**_batch(), mode='loss')['loss_image'], full, atol=1e-6)
    model.loss_image_crops = 1
    model(**_batch(), mode='loss')
    assert seen == [8, 8, 4]  # 2 x 3 crops + 2 whole images; then 2 x 1 crop + 2 whole images
    batch = _batch()
    batch['whole'] = None
    model.loss_image_crops = 0
    with pytest.raises(ValueError, match='no inputs'):
        model(**batch, mode='loss')


def test_teacher_cache_encodes_each_box_once_and_changes_nothing(model):
    calls = []
    encode = model.teacher.encode_image
    model.teacher.encode_image = lambda x: calls.append(len(x)) or encode(x)
    model.train()
    plain = model(**_batch(), mode='loss')
    model.cache_teacher = True
    first = model(**_batch(), image_id=[7, 8], mode='loss')
    again = model(**_batch(), image_id=[7, 8], mode='loss')
    assert calls == [6, 2, 6, 2]  # without the cache, then the first cached batch: crops and whole images
    for k in ('loss_cosine', 'loss_image'):
        assert torch.allclose(first[k], plain[k], atol=1e-6) and torch.allclose(again[k], plain[k], atol=1e-6)
    batch = _batch()
    batch['boxes'] = [batch['boxes'][0], batch['boxes'][1] + torch.tensor([1., 0, 1, 0])]  # image 8: new boxes
    model(**batch, image_id=[7, 8], mode='loss')
    assert calls[4:] == [3]
    assert not any('cache' in k for k in model.state_dict())


def test_loss_goes_down_and_ensemble_exports(model):
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    batch = _batch()
    first = model(**batch, mode='loss')['loss_cosine'].item()
    for _ in range(15):
        opt.zero_grad()
        model(**batch, mode='loss')['loss_cosine'].backward()
        opt.step()
    assert model(**batch, mode='loss')['loss_cosine'].item() < first * 0.7
    s, t = model.student.clip.state_dict(), model.teacher.clip.state_dict()
    key = 'visual.trunk.blocks.0.attn.q_proj.weight'
    mixed = model.ensemble_state_dict(0.7)
    torch.testing.assert_close(mixed[key], 0.7 * s[key] + 0.3 * t[key])
    torch.testing.assert_close(ensemble_state_dict(s, t, 1.0)[key], s[key])
    torch.testing.assert_close(ensemble_state_dict(s, t, 0.0)[key], t[key])
    with pytest.raises(ValueError, match='alpha'):
        ensemble_state_dict(s, t, 1.5)
