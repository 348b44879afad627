"""Stylization figures: training speed, rendering speed, and quality against training time.

    .venv/bin/python benchmarks/stylize.py            # everything (~15 min on a 2-core CPU)
    .venv/bin/python benchmarks/stylize.py --quick    # speed only

Quality: one keyframe (frame 0) painted by the deterministic 'watercolor' filter; held-out frames
are scored by PSNR/SSIM against the filter applied to them, next to the unstylized input's score.
"""

import argparse
import platform
import time

import numpy as np
import torch

from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.metrics import psnr, ssim
from reanimate.stylize.config import load_config
from reanimate.stylize.data import Keyframe
from reanimate.stylize.filters import watercolor
from reanimate.stylize.model import Generator, count_parameters
from reanimate.stylize.pipeline import Stylizer
from reanimate.stylize.train import Trainer

SIZES = {"176x144": (144, 176), "640x272": (272, 640), "1280x720": (720, 1280)}


def train_speed(preset: str, device: str, steps: int = 20) -> float:
    video = open_video(sample_clip("carphone_pristine"))
    frame = video.read(0)
    trainer = Trainer(load_config(preset), [Keyframe(0, frame, watercolor(frame))], device=device)
    trainer.train(iterations=3, show_progress=False)  # warm-up
    start = time.perf_counter()
    trainer.train(iterations=3 + steps, show_progress=False)
    return steps / (time.perf_counter() - start)


def render_ms(generator: torch.nn.Module, size: tuple[int, int], device: str, repeats: int,
              channels_last: bool = False) -> float:
    stylizer = Stylizer(generator, {}, device)
    if channels_last:
        stylizer.generator.to(memory_format=torch.channels_last)
    frame = (np.random.default_rng(0).random((*size, 3)) * 255).astype(np.uint8)
    stylizer([frame])
    start = time.perf_counter()
    for _ in range(repeats):
        stylizer([frame])
    return 1000 * (time.perf_counter() - start) / repeats


def quality(clip: str, preset: str, device: str, budgets=(30, 60, 120), held_out: int = 4) -> list[dict]:
    video = open_video(sample_clip(clip))
    indices = np.linspace(0, len(video) - 1, held_out + 1).round().astype(int)[1:]
    frames = video.read_many([0, *indices.tolist()])
    targets = {i: watercolor(f) for i, f in frames.items()}
    baseline = np.mean([psnr(frames[i], targets[i]) for i in indices])
    trainer = Trainer(load_config(preset), [Keyframe(0, frames[0], targets[0])], device=device, seed=0)
    rows = []
    for budget in budgets:
        trainer.train(seconds=budget, show_progress=False)
        model = trainer.stylizer()
        outputs = {i: model([frames[i]])[0] for i in indices}
        rows.append({"clip": clip, "preset": preset, "seconds": budget, "steps": trainer.step,
                     "psnr": np.mean([psnr(outputs[i], targets[i]) for i in indices]),
                     "ssim": np.mean([ssim(outputs[i], targets[i]) for i in indices]), "input_psnr": baseline})
        print(f"  {clip:18s} {preset:6s} {budget:4d} s {trainer.step:5d} steps  held-out PSNR "
              f"{rows[-1]['psnr']:.2f} dB  SSIM {rows[-1]['ssim']:.3f}  (input {baseline:.2f} dB)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="speed figures only")
    parser.add_argument("--clips", nargs="+", default=["carphone_pristine", "bikes"])
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, device {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else ""))

    print("\ntraining speed (Nb=40 patches of 32x32, inception perceptual loss):")
    for preset in ("paper", "fast"):
        print(f"  {preset:6s} {train_speed(preset, args.device):6.2f} it/s", flush=True)

    print("\nrender ms/frame (fp32 on CPU, fp16 on CUDA):")
    repeats = 3 if args.device == "cpu" else 20
    for preset in ("paper", "fast"):
        config = load_config(preset)
        generator = Generator(config.in_channels, config.filters, config.resblocks)
        print(f"  {preset} ({count_parameters(generator) / 1e6:.2f} M parameters)")
        for name, size in SIZES.items():
            base = render_ms(generator, size, args.device, repeats)
            last = render_ms(generator, size, args.device, repeats, channels_last=True)
            print(f"    {name:9s} {base:8.1f} ms  ({1000 / base:5.1f} fps)   channels_last {last:8.1f} ms "
                  f"(x{base / last:.2f})", flush=True)

    if not args.quick:
        print("\nheld-out quality vs training time (keyframe 0, watercolor filter):")
        for clip in args.clips:
            for preset in ("paper", "fast"):
                quality(clip, preset, args.device)


if __name__ == "__main__":
    main()
