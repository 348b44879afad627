"""Device selection: one code path for CPU, CUDA and Apple MPS."""

from typing import TYPE_CHECKING

from reanimate.core.errors import UserError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> "torch.device":
    """Turn `auto`/`cpu`/`cuda`/`cuda:N`/`mps` into a torch.device that exists on this machine."""
    import torch  # here, not at the top: the command line and worker processes start without torch

    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError(f"--device {name}: no CUDA GPU is visible to PyTorch here; use --device cpu or auto")
        _, _, index = name.partition(":")
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise UserError(f"--device {name}: this machine has CUDA devices 0..{torch.cuda.device_count() - 1}")
        return torch.device(name)
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise UserError("--device mps: Apple MPS is not available here; use --device cpu or auto")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise UserError(f"--device {name!r} is not one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
