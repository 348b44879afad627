"""Few-shot talking-head figures: animation speed, fine-tuning time to quality, the Table-1 evaluation.

    .venv/bin/python benchmarks/talk_fewshot.py [--model MODEL_DIR] [--device cpu] [--finetune-seconds 120]

- animate speed: generator ms/frame per preset (tiny 32 px, small 64 px, paper 256 px), fresh
  weights (speed does not depend on them), batch 1 and 8; and with the warp guide (`guided` 64 px,
  `paper` 256 px), the faces warped from real carphone shots at 256 px;
- fine-tuning time to a given SSIM on the real carphone clip: a fresh `small` network fine-tuned
  on 8 shots from the first half, scored on 16 frames of the second half after every chunk;
- the paper's evaluation table (FF / FT / copy, FID, SSIM, CSIM) of MODEL_DIR (default: the
  synthetic-faces `small` model in tests/fixtures) on unseen synthetic identities and on carphone.
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from reanimate.faces.align import resize_crop
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.synth import synth_dataset
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.metrics.image import ssim
from reanimate.talking_head.animate import driver_track
from reanimate.talking_head.config import load_config
from reanimate.talking_head.evaluate import evaluate, format_table
from reanimate.talking_head.fewshot import Avatar, landmark_images, load_shots
from reanimate.talking_head.model import TalkingHeadModel

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "talk-small-synthetic"
SSIM_TARGETS = (0.2, 0.25, 0.3)


def ms_per_frame(render, batch: int, repeats: int) -> float:
    """Milliseconds per frame of `render()` (a batch of `batch` frames), after one warm-up call."""
    render()
    start = time.perf_counter()
    for _ in range(repeats):
        render()
    return 1000 * (time.perf_counter() - start) / (repeats * batch)


def animate_speed(device: str) -> None:
    for preset in ("tiny", "small", "paper"):
        torch.manual_seed(0)
        model = TalkingHeadModel(load_config(preset))
        size = model.config.image_size
        shots = [np.zeros((size, size, 3), np.uint8)] * 8
        points = np.random.default_rng(0).uniform(size * 0.3, size * 0.7, (8, 68, 2)).astype(np.float32)
        avatar = Avatar(model, shots, points, device)
        marks = landmark_images(points, size)
        for batch in (1, 8):
            ms = ms_per_frame(lambda: avatar.render(marks[:batch], batch=batch), batch, 2 if preset == "paper" else 5)
            print(f"animate {preset:5s} {size:3d} px, batch {batch}: {ms:8.1f} ms/frame ({1000 / ms:6.1f} frames/s)")


def guided_speed(device: str, detail: int = 256) -> None:
    """With the warp guide: the warp of the nearest real carphone shot at `detail` px, the network's
    correction at its own size, added to the warp (what `talk animate --model GUIDED` does per frame)."""
    clip_path = sample_clip("carphone_pristine")
    detector = LandmarkDetector()
    shots, shot_points = load_shots([clip_path], detail, 8, detector)
    driving = driver_track(open_video(clip_path), detail, detector, show_progress=False).points
    for preset in ("guided", "paper"):
        torch.manual_seed(0)
        model = TalkingHeadModel(load_config(preset, warp_guide=True))
        size = model.config.image_size
        small = [resize_crop(f, p, size) for f, p in zip(shots, shot_points)]
        avatar = Avatar(model, [f for f, _ in small], np.stack([p for _, p in small]), device,
                        detail=(shots, shot_points))
        marks = landmark_images(driving[:8] * (size / detail), size)
        for batch in (1, 8):
            ms = ms_per_frame(lambda: avatar.render(marks[:batch], driving[:batch], batch=batch), batch,
                              2 if preset == "paper" else 5)
            print(f"animate {preset:6s} {size:3d} px with the warp guide, faces at {detail} px, batch {batch}: "
                  f"{ms:8.1f} ms/frame ({1000 / ms:6.1f} frames/s)")


def finetune_curve(device: str, seconds: float, chunk: float = 15.0) -> None:
    clip_path = sample_clip("carphone_pristine")
    clip = open_video(clip_path)
    half = len(clip) // 2
    detector = LandmarkDetector()
    torch.manual_seed(0)
    model = TalkingHeadModel(load_config("small"))
    size = model.config.image_size
    with tempfile.TemporaryDirectory() as work:
        from reanimate.io.writer import FrameWriter

        source = Path(work) / "source.mp4"
        with FrameWriter(source, clip.fps) as writer:
            for _, frame in clip.frames(range(half)):
                writer.write(frame)
        frames, points = load_shots([source], size, 8, detector)
    track = driver_track(clip, size, detector, show_progress=False)
    crops, driving = track.crops, track.points
    held_out = np.linspace(half, len(clip) - 1, 16).round().astype(int)
    marks = landmark_images(driving[held_out], size)
    avatar = Avatar(model, frames, points, device)

    def score() -> float:
        return float(np.mean([ssim(f, crops[i]) for f, i in zip(avatar.render(marks), held_out)]))

    reached, spent = {}, 0.0
    print(f"fine-tuning a fresh small network on 8 carphone shots: SSIM {score():.3f} at 0 s")
    while spent < seconds:
        start = time.perf_counter()
        avatar.finetune(seconds=chunk, show_progress=False)
        spent += time.perf_counter() - start
        value = score()
        print(f"  {spent:5.0f} s, {avatar.finetuned_steps:5d} steps: held-out SSIM {value:.3f}")
        for target in SSIM_TARGETS:
            if value >= target and target not in reached:
                reached[target] = spent
    for target in SSIM_TARGETS:
        print(f"time to SSIM {target}: " + (f"{reached[target]:.0f} s" if target in reached else f"> {seconds:.0f} s"))


def tables(model_dir: Path, device: str) -> None:
    with tempfile.TemporaryDirectory() as work:
        unseen = Path(work) / "unseen"
        synth_dataset(unseen, identities=8, frames=24, size=128, seed=424242, fps=2.5, show_progress=False)
        result = evaluate(model_dir, unseen, shots=(1, 8), targets=8, device=device, show_progress=False)
        print(f"evaluation of {model_dir.name} on 8 unseen synthetic identities:\n{format_table(result)}")
        from reanimate.faces.prepare import PrepareSettings, prepare_dataset

        faces = Path(work) / "carphone-faces"
        prepare_dataset(sample_clip("carphone_pristine"), faces, PrepareSettings(size=128), workers=1,
                        show_progress=False)
        result = evaluate(model_dir, faces, shots=(1, 8), targets=8, device=device, show_progress=False)
        print(f"evaluation of {model_dir.name} on carphone (a real face it never saw):\n{format_table(result)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=FIXTURE)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--finetune-seconds", type=float, default=120.0)
    parser.add_argument("--skip", nargs="*", default=[], choices=["speed", "finetune", "tables"])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, device {args.device}, "
          f"torch {torch.__version__}")
    if "speed" not in args.skip:
        animate_speed(args.device)
        guided_speed(args.device)
    if "finetune" not in args.skip:
        finetune_curve(args.device, args.finetune_seconds)
    if "tables" not in args.skip:
        tables(args.model, args.device)


if __name__ == "__main__":
    main()
