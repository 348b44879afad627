"""Device selection: one code path for CPU, CUDA and Apple MPS."""

import functools
from typing import TYPE_CHECKING

from reanimate.core.errors import UserError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: "str | torch.device" = "auto") -> "torch.device":
    """Turn `auto`/`cpu`/`cuda`/`cuda:N`/`mps` into a torch.device that exists on this machine."""
    import torch  # here, not at the top: the command line and worker processes start without torch

    if isinstance(name, torch.device):
        return name
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError(f"`device` {name}: no CUDA GPU is visible to PyTorch here; use `device` cpu or auto")
        _, _, index = name.partition(":")
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise UserError(f"`device` {name}: this machine has CUDA devices 0..{torch.cuda.device_count() - 1}")
        return torch.device(name)
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise UserError("`device` mps: Apple MPS is not available here; use `device` cpu or auto")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise UserError(f"`device` {name!r} is not one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")


PRECISIONS = ("auto", "bf16", "fp16", "fp32")
_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # native bfloat16 math: Zen 4+, Cooper Lake, Sapphire Rapids+


@functools.cache
def _cpu_has_native_bf16() -> bool:
    """Whether the CPU does bfloat16 arithmetic in hardware (Linux flags). Without it PyTorch emulates
    bf16 and runs slower than float32, so this decides, deterministically, rather than a timing."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return any(flag in flags for flag in _BF16_CPU_FLAGS)


def compute_dtype(precision: str, device: "torch.device", training: bool = False) -> "torch.dtype":
    """The dtype a network computes in for `--precision`.

    auto: on CUDA float16 to render and bfloat16 to train (bf16 needs no loss scaling); on a CPU with
    native bfloat16 (AVX-512 BF16 or AMX) bfloat16 for both, about 2x faster than float32 there;
    float32 elsewhere. fp16 is a rendering choice (meant for GPUs): training asked for it computes in
    bfloat16 on CUDA and in float32 elsewhere.
    """
    import torch

    if precision not in PRECISIONS:
        raise UserError(f"`precision` {precision!r} must be one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if training else torch.float16
        return torch.bfloat16 if device.type == "cpu" and _cpu_has_native_bf16() else torch.float32
    if precision == "fp16" and training:
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
