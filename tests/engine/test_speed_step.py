"""The training step's speed options on a tiny CLIPSelf: the teacher held in the autocast dtype (loss within bf16
tolerance, fp32 state dict and export), teacher-cache keys from host box arrays (the same keys as from the boxes,
so no device read-back is needed)."""
import numpy as np
import torch

from clipself.distill import CLIPSelf
from clipself.models.frozen_precision import held_dtype


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8, generator=g)
    boxes = [torch.tensor([[0., 0, 32, 32], [16, 8, 60, 40]]), torch.tensor([[4., 4, 50, 62]])]
    crops = torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8, generator=g)
    return images, boxes, crops


def test_teacher_held_in_bf16_under_autocast():
    torch.manual_seed(0)
    model = CLIPSelf(clip=dict(model_name='EVA02-Tiny-8'))
    teacher_sd = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    images, boxes, crops = _batch()
    ref = model.loss(images, boxes, crops)['loss_cosine']
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = model.loss(images, boxes, crops)['loss_cosine']
    assert held_dtype(model.teacher.clip) == torch.bfloat16
    assert held_dtype(model.student.clip) == torch.float32  # the student trains in fp32 (autocast casts per op)
    assert abs(out.item() - ref.item()) < 2e-2
    assert all(torch.equal(model.teacher.state_dict()[k], v) for k, v in teacher_sd.items())
    assert all(v.dtype == torch.float32 for k, v in model.ensemble_state_dict().items() if v.is_floating_point())
    model.teacher_in_amp_dtype = False  # the switch: weights cast per call again
    with torch.autocast('cpu', dtype=torch.bfloat16):
        model.loss(images, boxes, crops)
    assert held_dtype(model.teacher.clip) == torch.bfloat16  # left as it was; fp32 again once autocast is off
    model.teacher_in_amp_dtype = True
    model.loss(images, boxes, crops)
    assert held_dtype(model.teacher.clip) == torch.float32
    assert all(torch.equal(model.teacher.state_dict()[k], v) for k, v in teacher_sd.items())


def test_box_keys_give_the_cache_the_same_keys():
    torch.manual_seed(0)
    model = CLIPSelf(clip=dict(model_name='EVA02-Tiny-8'), cache_teacher=True)
    images, boxes, crops = _batch()
    a = model.loss(images, boxes, crops, image_ids=[3, 4])
    keys = set(model._teacher_cache)
    calls = []
    encode = model.teacher.encode_image
    model.teacher.encode_image = lambda x: calls.append(len(x)) or encode(x)
    b = model.loss(images, boxes, crops, image_ids=[3, 4], box_keys=[b.numpy().astype(np.float32) for b in boxes])
    assert set(model._teacher_cache) == keys and calls == []  # every crop found in the cache
    torch.testing.assert_close(a['loss_cosine'], b['loss_cosine'])
