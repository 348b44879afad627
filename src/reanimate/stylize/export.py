"""A trained stylization network as ONNX, so other tools (ONNX Runtime, TensorRT, OpenCV's dnn,
game engines) can run it.

The graph takes the network input (B, C, H, W) in [-1, 1], with H and W multiples of 4, and
returns (B, 3, H, W) in [-1, 1]; `in_channels` is 3 for RGB models, more with guide channels.
Measured on a 2-core CPU, ONNX Runtime ran the network no faster than PyTorch's bfloat16
channels-last path (benchmarks/RESULTS.md), so reanimate itself renders with PyTorch.
"""

import inspect
import io
import os
from pathlib import Path

import numpy as np
import torch

from reanimate.core.errors import UserError
from reanimate.core.files import atomic_path, check_writable
from reanimate.stylize.model import Generator
from reanimate.stylize.pipeline import MULTIPLE, Stylizer

OPSET = 17


def _need(module: str):
    try:
        return __import__(module)
    except ImportError as exc:
        raise UserError(f"exporting to ONNX needs the {module} package: pip install 'reanimate[onnx]' "
                        "(or pip install onnx onnxruntime)") from exc


def to_onnx_bytes(generator: Generator) -> bytes:
    """A float32 generator as an ONNX model (dynamic batch, height and width)."""
    _need("onnx")
    example = torch.zeros(1, generator.enc0[0].in_channels, 8 * MULTIPLE, 8 * MULTIPLE)
    axes = {0: "batch", 2: "height", 3: "width"}
    buffer = io.BytesIO()
    # The TorchScript exporter: dynamic height and width without tracing guards. Torch >= 2.5 must be
    # told (its default became the dynamo exporter); older ones have no such argument.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(generator, (example,), buffer, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": axes, "output": axes}, opset_version=OPSET, **legacy)
    return buffer.getvalue()


def export_onnx(model: str | os.PathLike, out: str | os.PathLike, overwrite: bool = False,
                check: bool = True) -> Path:
    """Write the network of the model folder MODEL to OUT (.onnx), atomically; with `check`, run it
    in ONNX Runtime on a random input first and refuse a file that does not match PyTorch."""
    out = Path(out)
    if out.suffix.lower() != ".onnx":
        raise UserError(f"{out}: an ONNX model file must end in .onnx")
    if out.exists() and not overwrite:
        raise UserError(f"{out} already exists: pass `overwrite` to replace it")
    check_writable(out)
    generator = Stylizer.from_pretrained(model, "cpu", "fp32").generator  # float32, as it was saved
    data = to_onnx_bytes(generator)
    if check:
        _check(generator, data, out)
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    return out


def _check(generator: Generator, data: bytes, out: Path) -> None:
    ort = _need("onnxruntime")
    channels = generator.enc0[0].in_channels
    x = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (1, channels, 36, 52)).astype(np.float32))
    with torch.inference_mode():
        expected = generator(x).numpy()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x.numpy()})[0]
    error = float(np.abs(got - expected).max())
    if error > 1e-3:
        raise UserError(f"the ONNX export of {out.name} differs from PyTorch by {error:.2g}: not written")
