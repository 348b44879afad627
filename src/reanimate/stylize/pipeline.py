"""Inference: run a trained generator on whole frames of any size, batched, tiled when large.

Frames are independent (Texler et al., Sec. 5): any order, any subset, in parallel.
"""

import contextlib
import os
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from reanimate.core.checkpoint import load_model_folder, save_model_folder
from reanimate.core.device import resolve_device
from reanimate.core.errors import UserError
from reanimate.core.progress import progress
from reanimate.io.video import FrameWriter, Video
from reanimate.stylize.data import to_image, to_tensor
from reanimate.stylize.model import Generator

MODEL_KIND = "reanimate.stylize"
MODEL_FORMAT = 1
MULTIPLE = 4  # two stride-2 stages
# Receptive-field margin kept around each tile: 7 px at full resolution plus the 1/4-resolution
# residual core (2 convs per block) and decoder, so tiles join without seams.
TILE_MARGIN = 64


def network_input(frame: np.ndarray) -> torch.Tensor:
    """What the generator sees for one frame: RGB in [-1, 1], (3, H, W)."""
    return to_tensor(frame)


def pad_to_multiple(x: torch.Tensor, multiple: int = MULTIPLE) -> tuple[torch.Tensor, int, int]:
    """Reflect-pad (B, C, H, W) at the bottom/right to multiples of `multiple`; returns the original H, W."""
    height, width = x.shape[-2:]
    pad_h, pad_w = -height % multiple, -width % multiple
    if pad_h or pad_w:
        mode = "reflect" if pad_h < height and pad_w < width else "replicate"
        x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
    return x, height, width


def run_padded(generator: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Generator on (B, C, H, W) of any size: pad to a multiple of 4, run, crop back."""
    padded, height, width = pad_to_multiple(x)
    return generator(padded)[..., :height, :width]


def run_tiled(generator: torch.nn.Module, x: torch.Tensor, tile: int, margin: int = TILE_MARGIN) -> torch.Tensor:
    """Generator on (B, C, H, W) in tiles of `tile` px, each run with `margin` px of context.

    Each output pixel comes from a tile in which it lies at least `margin` px from any cut, so the
    result matches the whole-frame result up to float rounding while memory stays bounded.
    """
    height, width = x.shape[-2:]
    if height <= tile and width <= tile:
        return run_padded(generator, x)
    out = None
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            bottom, right = min(top + tile, height), min(left + tile, width)
            y0, x0 = max(top - margin, 0), max(left - margin, 0)
            y1, x1 = min(bottom + margin, height), min(right + margin, width)
            piece = run_padded(generator, x[..., y0:y1, x0:x1])
            if out is None:
                out = piece.new_empty((x.shape[0], piece.shape[1], height, width))
            out[..., top:bottom, left:right] = piece[..., top - y0:bottom - y0, left - x0:right - x0]
    return out


class Stylizer:
    """A trained stylization network, ready to restyle frames.

    Args:
        generator: the trained `Generator`.
        config: the saved model configuration (see `config_dict`).
        device: "auto", "cpu", "cuda", "cuda:N" or "mps".
        precision: "auto" (half on CUDA, float elsewhere), "fp16" or "fp32".
        tile: frames with a side longer than this are rendered in tiles (bounded memory).

    Example:
        >>> stylizer = Stylizer.from_pretrained("my-model")
        >>> styled = stylizer([frame])[0]
    """

    def __init__(self, generator: Generator, config: dict, device: str | torch.device = "auto",
                 precision: str = "auto", tile: int | None = None):
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        if precision not in ("auto", "fp16", "fp32"):
            raise UserError(f"--precision {precision!r} must be auto, fp16 or fp32")
        half = precision == "fp16" or (precision == "auto" and self.device.type == "cuda")
        self.dtype = torch.float16 if half else torch.float32
        self.generator = generator.to(self.device, self.dtype).eval()
        self.config = config
        # On the GPU whole 4K frames fit; on CPU tiles keep memory near 1 GB for the paper network.
        self.tile = tile or (2048 if self.device.type == "cuda" else 1024)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, device: str = "auto", precision: str = "auto",
                        tile: int | None = None) -> "Stylizer":
        """Load a model folder (config.json + model.safetensors) written by `save_pretrained`."""
        config, state = load_model_folder(path)
        if config.get("kind") != MODEL_KIND:
            raise UserError(f"{path} is a {config.get('kind', 'unknown')!r} model, not a stylization model "
                            f"({MODEL_KIND!r})")
        if config.get("format", 0) > MODEL_FORMAT:
            raise UserError(f"{path} was written by a newer reanimate (format {config['format']}): upgrade reanimate")
        model = config["model"]
        generator = Generator(model["in_channels"], tuple(model["filters"]), model["resblocks"])
        try:
            generator.load_state_dict(state)
        except RuntimeError as exc:
            raise UserError(f"{path}: the weights do not match its config.json ({exc})") from exc
        return cls(generator, config, device, precision, tile)

    def save_pretrained(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        # Always stored in float32, whatever precision this copy runs in.
        state = {k: v.float() if v.is_floating_point() else v for k, v in self.generator.state_dict().items()}
        return save_model_folder(path, self.config, state, overwrite=overwrite)

    @torch.inference_mode()
    def stylize_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) network input in [-1, 1] -> (B, 3, H, W) float32 output on the CPU."""
        x = x.to(self.device, self.dtype, non_blocking=True)
        return run_tiled(self.generator, x, self.tile).float().cpu()

    def __call__(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        """Restyle RGB uint8 frames of one size; returns RGB uint8 frames."""
        batch = torch.stack([network_input(f) for f in frames])  # (B, C, H, W)
        return [to_image(y) for y in self.stylize_tensor(batch)]

    def default_batch_size(self, height: int, width: int) -> int:
        if self.device.type == "cpu":
            return 1  # batching buys nothing on CPU and costs memory
        return max(1, min(16, (1920 * 1080 * 4) // (height * width)))

    def stream(self, video: Video, indices: Iterable[int] | None = None,
               batch_size: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (index, stylized frame) for the requested frames of `video`, in index order."""
        batch_size = batch_size or self.default_batch_size(video.height, video.width)
        pending: list[tuple[int, np.ndarray]] = []
        for index, frame in video.frames(indices):
            pending.append((index, frame))
            if len(pending) == batch_size:
                yield from zip([i for i, _ in pending], self([f for _, f in pending]))
                pending = []
        if pending:
            yield from zip([i for i, _ in pending], self([f for _, f in pending]))

    def render(self, video: Video, out: str | os.PathLike, indices: Iterable[int] | None = None,
               batch_size: int | None = None, overwrite: bool = False, show_progress: bool = True) -> Path:
        """Restyle frames of `video` into OUT (a video file by extension, else a folder of PNGs).

        Args:
            video: an opened `Video`.
            out: "x.mp4" (or another video extension) or a folder for `%05d.png` frames.
            indices: frame indices (default: all).
            batch_size: frames per forward pass (default: 1 on CPU, more on GPU).
            overwrite: replace an existing OUT.

        Returns:
            The path written; it appears only when every frame is done.
        """
        wanted = list(range(len(video))) if indices is None else sorted(set(indices))
        bar = progress(len(wanted), "render", "frame", enabled=show_progress)
        with bar, FrameWriter(out, video.fps, overwrite=overwrite) as writer:
            for index, styled in self.stream(video, wanted, batch_size):
                writer.write(styled, video.frame_name(index))
                bar.update(1)
        return Path(out)


@contextlib.contextmanager
def evaluating(module: torch.nn.Module):
    """Temporarily switch a training module to eval mode (BatchNorm running statistics)."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)
