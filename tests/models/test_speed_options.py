"""Speed options of the models: a frozen tower held in the autocast dtype (outputs within bf16 tolerance, exact fp32
state dict, back to fp32 without autocast) and ``compile_encoders`` (the compiled path equals eager)."""
import copy

import pytest
import torch

from clipself.models import build_clip
from clipself.models.frozen_precision import held_dtype, match_autocast


@pytest.fixture(scope='module')
def tiny():
    torch.manual_seed(0)
    return build_clip('EVA02-Tiny-8').requires_grad_(False).eval()


def test_frozen_tower_held_in_autocast_dtype(tiny):
    model = copy.deepcopy(tiny)
    x = torch.randn(3, 3, 64, 80)
    ref = model.encode_image(x)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert match_autocast(model.clip, 'cpu') == torch.bfloat16
        out = model.encode_image(x.bfloat16()).float()
    assert held_dtype(model.clip) == torch.bfloat16
    assert (out - ref).abs().max() < 0.05  # unit vectors: bf16 keeps ~3 significant digits
    assert (out - ref).abs().max() > 0  # it really ran in bf16
    # the state dict is the exact fp32 one (checkpoints, export) while the weights are held in bf16
    now = model.state_dict()
    assert all(now[k].dtype == v.dtype and torch.equal(now[k], v) for k, v in sd.items())
    # without autocast the tower goes back to its exact fp32 weights
    assert match_autocast(model.clip, 'cpu') == torch.float32
    assert held_dtype(model.clip) == torch.float32
    torch.testing.assert_close(model.encode_image(x), ref, rtol=0, atol=0)


def test_loading_a_state_dict_into_a_half_tower_loads_fp32(tiny):
    model = copy.deepcopy(tiny)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        match_autocast(model.clip, 'cpu')
    new = {k: v + 0.001 if v.is_floating_point() else v for k, v in tiny.state_dict().items()}
    model.load_state_dict(new)
    assert held_dtype(model.clip) == torch.float32
    assert all(torch.equal(model.state_dict()[k], v) for k, v in new.items())


def test_match_autocast_refuses_trainable_modules():
    model = build_clip('EVA02-Tiny-8')
    with torch.autocast('cpu', dtype=torch.bfloat16), pytest.raises(ValueError, match='frozen'):
        match_autocast(model.clip, 'cpu')


def test_compiled_encoders_equal_eager(name='EVA02-Tiny-8'):
    # aot_eager traces and runs the same graph torch.compile hands to a backend, without a C++ toolchain run
    # (inductor's CPU code generation takes minutes on a loaded 2-core machine; GPUs use inductor)
    torch.manual_seed(0)
    model = build_clip(name).eval()
    x = torch.randn(2, 3, 72, 64)
    with torch.no_grad():
        ref_dense, ref_image = model.encode_dense(x), model.encode_image(x)
        model.compile_encoders(backend='aot_eager')
        assert model.encode_dense is not type(model).encode_dense
        torch.testing.assert_close(model.encode_dense(x), ref_dense, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(model.encode_image(x), ref_image, atol=1e-5, rtol=1e-5)
    assert set(model.state_dict()) == set(build_clip(name).state_dict())
