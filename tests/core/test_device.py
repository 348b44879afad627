import pytest
import torch

from reanimate.core import device as devices
from reanimate.core.device import compute_dtype
from reanimate.core.errors import UserError


def test_auto_precision_follows_the_hardware(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(devices, "_cpu_has_native_bf16", lambda: True)
    assert compute_dtype("auto", cpu) == torch.bfloat16 == compute_dtype("auto", cpu, training=True)
    monkeypatch.setattr(devices, "_cpu_has_native_bf16", lambda: False)
    assert compute_dtype("auto", cpu) == torch.float32 == compute_dtype("auto", cpu, training=True)
    assert compute_dtype("auto", cuda) == torch.float16 and compute_dtype("auto", cuda, training=True) == torch.bfloat16
    assert compute_dtype("fp16", cuda, training=True) == torch.bfloat16  # fp16 training would need loss scaling
    assert compute_dtype("fp16", cpu, training=True) == torch.float32
    assert compute_dtype("fp32", cpu) == torch.float32 and compute_dtype("bf16", cpu) == torch.bfloat16
    with pytest.raises(UserError, match="must be one of"):
        compute_dtype("int8", cpu)


def test_the_cpu_flags_are_read_without_failing():
    assert devices._cpu_has_native_bf16() in (True, False)
