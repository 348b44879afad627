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

from reanimate.core.background import WriteBehind, read_ahead
from reanimate.core.checkpoint import load_model_folder, load_weights, save_model_folder
from reanimate.core.device import compute_dtype, resolve_device
from reanimate.core.errors import UserError, brief
from reanimate.core.files import work_dir_for
from reanimate.core.progress import progress, say
from reanimate.io.flow import compute_flow
from reanimate.io.formats import Written
from reanimate.io.video import Video
from reanimate.io.writer import FrameWriter
from reanimate.nn.convert import to_image, to_tensor
from reanimate.stylize.consistency import TemporalPass, parse_strength
from reanimate.stylize.guides import Seeds
from reanimate.stylize.inputs import InputBuilder
from reanimate.stylize.matte import Matte, with_alpha
from reanimate.stylize.model import Generator

MODEL_KIND = "reanimate.stylize"
MODEL_FORMAT = 1
SEED_PREFIX = "guide_seeds."  # guide points of each keyframe, stored beside the weights
MULTIPLE = 4  # two stride-2 stages


def tile_margin(resblocks: int) -> int:
    """Context kept around each tile: the generator's receptive-field radius, rounded up.

    Each residual block adds two 3x3 convs at 1/4 resolution (8 px at full resolution); the
    encoder, decoder and output convs add about 40 px more.
    """
    return 48 + 8 * resblocks


def _network_settings(model, path) -> tuple[int, tuple[int, ...], int]:
    """(in_channels, filters, resblocks) from a model folder's config.json, checked before a network is built."""
    try:
        channels, filters, blocks = int(model["in_channels"]), tuple(int(f) for f in model["filters"]), int(model["resblocks"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}/config.json lacks or garbles the network settings ({brief(exc)}): save the model again") from exc
    if not (1 <= channels <= 64 and len(filters) == 6 and all(1 <= f <= 1024 for f in filters) and 0 <= blocks <= 64):
        raise UserError(f"{path}/config.json asks for a network no reanimate makes (in_channels {channels}, filters "
                        f"{list(filters)}, resblocks {blocks}; at most 64 channels in, 1024 per layer, 64 blocks): "
                        "the file was edited; save the model again")
    return channels, filters, blocks


def check_depth(depth: int) -> None:
    """Refuse a depth no output has, before any work."""
    if depth not in (8, 16):
        raise UserError(f"`depth` {depth}: frames are written with 8 or 16 bits a channel")


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


def run_tiled(generator: Generator, x: torch.Tensor, tile: int) -> torch.Tensor:
    """Generator on (B, C, H, W) in tiles of `tile` px, each run with receptive-field context.

    Each output pixel comes from a tile in which it lies at least one receptive-field radius from
    any cut, so the result matches the whole-frame result up to float rounding while memory stays
    bounded. Tiles start on multiples of 4 to keep the stride-2 stages aligned with the whole frame.
    """
    tile = max(MULTIPLE, tile - tile % MULTIPLE)
    margin = tile_margin(len(generator.core))
    margin += -margin % MULTIPLE
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
        precision: "auto" (float16 on CUDA, bfloat16 on a CPU with native bf16, float32 elsewhere),
            "bf16", "fp16" or "fp32" (`core.device.compute_dtype`).
        tile: frames with a side longer than this are rendered in tiles (bounded memory).
        seeds: guide points per keyframe, for models trained with `guide="gauss"`.

    Example:
        >>> stylizer = Stylizer.from_pretrained("my-model")
        >>> styled = stylizer([frame])[0]
    """

    def __init__(self, generator: Generator, config: dict, device: str | torch.device = "auto",
                 precision: str = "auto", tile: int | None = None, seeds: list[Seeds] | None = None):
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        self.dtype = compute_dtype(precision, self.device)
        # channels_last: oneDNN's and cuDNN's fast convolution layout (on CPU 15 % faster in float32,
        # 30 % in bfloat16; benchmarks/RESULTS.md).
        self.memory_format = torch.channels_last if self.device.type in ("cpu", "cuda") else torch.contiguous_format
        self.generator = generator.to(self.device, self.dtype, memory_format=self.memory_format).eval()
        self.config = config
        self.seeds = seeds or []
        # On the GPU whole 4K frames fit; on CPU tiles keep memory near 1 GB for the paper network.
        self.tile = tile or (2048 if self.device.type == "cuda" else 1024)
        self.temporal_pass: TemporalPass | None = None  # the last stream's, with its report
        self.written: Written | None = None  # what the last render wrote

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
        generator = Generator(*_network_settings(config.get("model"), path))
        seeds = [Seeds.from_array(int(k.removeprefix(SEED_PREFIX)), state.pop(k).numpy())
                 for k in [k for k in state if k.startswith(SEED_PREFIX)]]
        load_weights(generator, state, path)
        return cls(generator, config, device, precision, tile, seeds)

    def save_pretrained(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        # Always stored in float32, whatever precision this copy runs in.
        state = {k: v.float() if v.is_floating_point() else v for k, v in self.generator.state_dict().items()}
        state |= {f"{SEED_PREFIX}{s.index}": torch.from_numpy(s.as_array()) for s in self.seeds}
        return save_model_folder(path, self.config, state, overwrite=overwrite)

    @property
    def input_settings(self) -> dict:
        return self.config.get("input", {})

    def inputs(self, video: Video, work_dir: str | os.PathLike | None = None,
               show_progress: bool = True) -> InputBuilder:
        """The input builder of this model for `video` (guides are recomputed from the saved seeds)."""
        return InputBuilder(video, self.input_settings, self.seeds, work_dir,
                            self.config.get("training", {}).get("seed", 0), show_progress)

    @torch.inference_mode()
    def stylize_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) network input in [-1, 1] -> (B, 3, H, W) float32 output on the CPU."""
        x = x.to(self.device, self.dtype, non_blocking=True).contiguous(memory_format=self.memory_format)
        return run_tiled(self.generator, x, self.tile).float().cpu()

    def __call__(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        """Restyle RGB uint8 frames of one size (single images: models without guides or filtering)."""
        if self.input_settings.get("guide", "none") != "none" or self.input_settings.get("filter_input"):
            raise UserError("this model uses guides or filtered input, which follow the video's motion: "
                            "render a whole video (Stylizer.render / reanimate render) instead of single frames")
        batch = torch.stack([to_tensor(f) for f in frames])  # (B, 3, H, W)
        return [to_image(y) for y in self.stylize_tensor(batch)]

    def default_batch_size(self, height: int, width: int) -> int:
        if self.device.type == "cpu":
            return 1  # batching buys nothing on CPU and costs memory
        return max(1, min(16, (1920 * 1080 * 4) // (height * width)))

    def stream(self, video: Video, indices: Iterable[int] | None = None, batch_size: int | None = None,
               work_dir: str | os.PathLike | None = None, show_progress: bool = True,
               temporal: float | str = 0.0, depth: int = 8) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (index, stylized frame) for the requested frames of `video`, in index order.

        Guides and optical flow (if the model or the temporal pass uses them) are prepared before
        this returns. `temporal`: the strength of the temporal consistency pass ("auto", or 0 to
        MAX_STRENGTH; 0 = off, the default here); it needs `work_dir` for the flow cache. `depth`: 8
        (uint8 frames) or 16 (uint16).
        """
        batch_size = batch_size or self.default_batch_size(video.height, video.width)
        inputs = self.inputs(video, work_dir, show_progress)
        # Decoding and building the next inputs run on another thread while the network computes.
        rendered = self._batches(read_ahead(inputs(indices), depth=batch_size + 1), batch_size, depth)
        strength = parse_strength(temporal)
        self.temporal_pass = None
        if strength == 0.0 or len(video) < 2:
            return ((index, styled) for index, _, styled in rendered)
        if work_dir is None:
            raise ValueError("the temporal pass needs a work_dir for the optical flow cache")
        flow = inputs.flow or compute_flow(video, Path(work_dir) / "flow", self.input_settings.get("flow_side", 640),
                                           show_progress)
        self.temporal_pass = steady = TemporalPass(flow, strength)
        return ((index, steady(index, frame, styled)) for index, frame, styled in rendered)

    def _batches(self, inputs, batch_size: int, depth: int = 8) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(index, input frame, stylized frame), a batch of network inputs at a time."""
        pending: list[tuple[int, np.ndarray, torch.Tensor]] = []

        def flush():
            outputs = self.stylize_tensor(torch.stack([x for _, _, x in pending]))  # (B, 3, H, W)
            return [(i, frame, to_image(y, depth)) for (i, frame, _), y in zip(pending, outputs)]

        for index, frame, x in inputs:
            pending.append((index, frame, x))
            if len(pending) == batch_size:
                yield from flush()
                pending = []
        if pending:
            yield from flush()

    def render(self, video: Video, out: str | os.PathLike, indices: Iterable[int] | None = None,
               batch_size: int | None = None, overwrite: bool = False, show_progress: bool = True,
               work_dir: str | os.PathLike | None = None, temporal: float | str = "auto", depth: int = 8,
               matte: Matte | None = None) -> Path:
        """Restyle frames of `video` into OUT (a video file by extension, else a folder of PNGs).

        Args:
            video: an opened `Video`.
            out: "x.mp4" (or another video extension) or a folder for `%05d.png` frames.
            indices: frame indices (default: all).
            batch_size: frames per forward pass (default: 1 on CPU, more on GPU).
            overwrite: replace an existing OUT.
            work_dir: optical-flow cache for guided / filtered models and the temporal pass
                (default: `OUT-stem-run`).
            temporal: the temporal consistency pass (`stylize.consistency`): "auto" (blends as much
                as the render's measured excess flicker asks for), a strength, or 0 / "off".
            depth: 8, or 16 bits a channel (16-bit PNG / TIFF frames, FFV1; finer ProRes).
            matte: write a layer with alpha, where the keyframes' masks went (`stylize.matte`).

        Returns:
            The path written; it appears only when every frame is done. It keeps the input's sound
            (cut to `indices`), frame times and colour tags; `self.written` says what it holds.
        """
        check_depth(depth)
        wanted = list(range(len(video))) if indices is None else sorted(set(indices))
        work_dir = work_dir if work_dir is not None else work_dir_for(out)
        writer = FrameWriter(out, video.fps, overwrite=overwrite, like=video, frames=wanted,
                             audio=video.sound, verbose=show_progress)
        stream = self.stream(video, wanted, batch_size, work_dir, show_progress, temporal, depth)
        bar = progress(len(wanted), "render", "frame", enabled=show_progress)
        with bar, writer, WriteBehind() as behind:  # encoding runs beside the next frame's compute
            for index, styled in stream:
                if matte is not None:
                    styled = with_alpha(styled, matte(index))
                behind.submit(writer.write, styled, video.frame_name(index))
                bar.update(1)
        if self.temporal_pass is not None:
            say(self.temporal_pass.report.summary(self.temporal_pass.chosen), show_progress)
        self.written = writer.written  # what was made (size, rate, length, format, sound): the last line
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
