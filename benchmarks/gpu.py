"""The paper's interactive points on this machine's accelerator, in one command: held-out quality
after 2 s and 16 s of training, and rendering frames per second at 640x360 and 1280x720.

    .venv/bin/python benchmarks/gpu.py              # the GPU if there is one, else the CPU
    .venv/bin/python benchmarks/gpu.py --smoke      # tiny budgets: checks the script (the tests run it)

Everything runs as `reanimate stylize` would on the device: `--preset auto` (paper on a GPU, fast on
a CPU), `--precision auto` (bf16 training; fp16 rendering on CUDA, bf16 on CPUs with native bf16),
channels_last. Rendering is timed three ways: the network alone in batches, the network compiled
with torch.compile, and the whole render of a real clip (decode read ahead, encode written behind).
Quality: keyframe 0 painted by the 'watercolor' filter; 6 held-out frames scored against the filter.
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from reanimate.core.device import compute_dtype, resolve_device
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.metrics import psnr
from reanimate.stylize.config import load_config, resolve_preset
from reanimate.stylize.data import Keyframe
from reanimate.stylize.filters import watercolor
from reanimate.stylize.pipeline import Stylizer
from reanimate.stylize.train import Trainer

SIZES = {"640x360": (360, 640), "1280x720": (720, 1280)}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def quality(clip: str, device: torch.device, checkpoints: list[float], config) -> str:
    video = open_video(sample_clip(clip))
    scored = np.linspace(0, len(video) - 1, 7).round().astype(int)[1:].tolist()
    frames = video.read_many(scored)
    targets = {i: watercolor(f) for i, f in frames.items()}
    key = video.read(0)
    trainer = Trainer(config, [Keyframe(0, key, watercolor(key))], device=device, seed=0)
    parts = [f"{clip} ({video.width}x{video.height}) input {np.mean([psnr(frames[i], targets[i]) for i in scored]):.2f} dB"]
    for seconds in checkpoints:
        trainer.train(seconds=seconds, show_progress=False)
        model = trainer.stylizer()
        score = np.mean([psnr(model([frames[i]])[0], targets[i]) for i in scored])
        parts.append(f"after {seconds:g} s ({trainer.step} steps) {score:.2f} dB")
    return ", ".join(parts)


def network_fps(stylizer: Stylizer, size: tuple[int, int], batch: int, repeats: int, compiled: bool = False) -> float:
    x = torch.rand(batch, 3, *size, device=stylizer.device) * 2 - 1
    x = x.to(stylizer.dtype).contiguous(memory_format=stylizer.memory_format)
    net = torch.compile(stylizer.generator) if compiled else stylizer.generator
    with torch.inference_mode():
        net(x)
        synchronize(stylizer.device)
        started = time.perf_counter()
        for _ in range(repeats):
            net(x)
        synchronize(stylizer.device)
    return batch * repeats / (time.perf_counter() - started)


def clip_fps(stylizer: Stylizer, size: tuple[int, int], frames: int, work: Path) -> float:
    """The whole render of a real clip (bigbuckbunny scaled to `size`), temporal pass off, into H.264."""
    source = open_video(sample_clip("bigbuckbunny"))
    clip = work / f"clip-{size[1]}x{size[0]}.mp4"
    with FrameWriter(clip, source.fps) as writer:
        for _, frame in source.frames(range(min(frames, len(source)))):
            writer.write(cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA))
    video = open_video(clip)
    started = time.perf_counter()
    stylizer.render(video, work / f"out-{size[1]}.mp4", temporal="off", show_progress=False, overwrite=True)
    return len(video) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--smoke", action="store_true", help="tiny budgets, to check the script")
    parser.add_argument("--clips", nargs="+", default=["carphone_pristine", "bikes"])
    args = parser.parse_args()
    device = resolve_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{platform.machine()}, {os.cpu_count()} cores"
    preset = resolve_preset("auto", device)
    config = load_config(preset, **({"filters": (8, 16, 16, 16, 16, 8), "resblocks": 1, "batch_size": 8,
                                     "perceptual_backbone": "none"} if args.smoke else {}))
    print(f"device {device} ({name}); torch {torch.__version__}; preset auto -> {preset}; training "
          f"{str(compute_dtype('auto', device, training=True)).removeprefix('torch.')}, rendering "
          f"{str(compute_dtype('auto', device)).removeprefix('torch.')}{' (smoke run)' if args.smoke else ''}")
    checkpoints = [0.5, 1.0] if args.smoke else [2.0, 16.0]
    print("\nquality against training time (the paper: structure after 2 s, a good result after 16 s):")
    for clip in args.clips[:1] if args.smoke else args.clips:
        print(" ", quality(clip, device, checkpoints, config), flush=True)

    from reanimate.stylize.model import Generator

    stylizer = Stylizer(Generator(3, config.filters, config.resblocks), {}, device)
    sizes = {"176x144": (144, 176)} if args.smoke else SIZES
    batch = 1 if device.type == "cpu" else 8
    repeats = 1 if args.smoke else (3 if device.type == "cpu" else 20)
    print(f"\nrendering, frames per second ({preset} network, batches of {batch}):")
    with tempfile.TemporaryDirectory(prefix="reanimate-gpu-") as work:
        for label, size in sizes.items():
            eager = network_fps(stylizer, size, batch, repeats)
            line = f"  {label:9s} network {eager:7.1f} fps"
            if device.type == "cuda":
                line += f", compiled {network_fps(stylizer, size, batch, repeats, compiled=True):7.1f} fps"
            whole = clip_fps(stylizer, size, 12 if args.smoke else 120, Path(work))
            print(f"{line}, whole render of a clip {whole:7.1f} fps", flush=True)


if __name__ == "__main__":
    main()
