"""Flicker figures: the flicker ratio and held-out PSNR of each way of steadying a restyled video.

    .venv/bin/python benchmarks/temporal.py [--clips carphone_pristine bikes bigbuckbunny]
        [--styles watercolor pencil] [--iterations 300] [--frames 60] [--strengths 0.3 0.6] [--cost-only]

For each clip and style: keyframe 0 painted by the filter, the `fast` preset trained for the same
number of steps with and without the temporally filtered input (Texler et al., Sec. 4.2), each
rendered raw to PNG (no codec noise); then the temporal consistency pass (`stylize.consistency`)
run on the raw frames at "auto" and at fixed strengths. Scored by `reanimate.api.metrics`: the
flicker ratio (flow-warped temporal error of the output over that of the footage itself, 1.0 = as
steady as the footage) and PSNR against the filter on every frame but the keyframe. Also the
pass's own time per frame (flow excluded: it is cached) and the optical flow's.
Clips are shrunk to a longer side of --max-side px (bigbuckbunny: 1280x720 -> 640x360).
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from reanimate import api
from reanimate.io.flow import compute_flow
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.stylize.config import load_config
from reanimate.stylize.consistency import TemporalPass
from reanimate.stylize.data import load_keyframes
from reanimate.stylize.filters import FILTERS
from reanimate.stylize.inputs import training_inputs
from reanimate.stylize.train import Trainer


def shrunk_copy(clip: str, frames: int | None, max_side: int, folder: Path):
    """The first `frames` frames of a sample clip as PNGs, longer side at most `max_side`."""
    source = open_video(sample_clip(clip))
    count = min(len(source), frames or len(source))
    scale = min(1.0, max_side / max(source.width, source.height))
    size = (round(source.width * scale) // 2 * 2, round(source.height * scale) // 2 * 2)
    with FrameWriter(folder / "frames", source.fps, overwrite=True) as writer:
        for index, frame in source.frames(range(count)):
            if scale < 1:
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            writer.write(frame, f"{index:05d}.png")
    return open_video(folder / "frames")


def train(video, key, iterations: int, work: Path, filter_input: bool):
    config = load_config("fast", filter_input=filter_input)
    keyframes = load_keyframes(video, {0: key})
    inputs, seeds = training_inputs(video, keyframes, config, work, 0, False)
    trainer = Trainer(config, keyframes, None, "cpu", 0, None, inputs, seeds)
    trainer.train(iterations=iterations, show_progress=False)
    return trainer.stylizer()


def steadied(video, raw: Path, flow, strength, out: Path) -> tuple[Path, float, str]:
    """The pass over already rendered frames; returns (folder, ms per frame, the pass's summary)."""
    steady, spent = TemporalPass(flow, strength), 0.0
    styled = open_video(raw)
    with FrameWriter(out, video.fps, overwrite=True) as writer:
        for (index, frame), (_, rendered) in zip(video.frames(), styled.frames()):
            start = time.perf_counter()
            result = steady(index, frame, rendered)
            spent += time.perf_counter() - start
            writer.write(result, f"{index:05d}.png")
    return out, 1000 * spent / len(video), steady.report.summary(strength)


def score(out: Path, video, truth: Path, work: Path) -> tuple[float, float]:
    result = api.metrics(out, video, truth, work_dir=work, show_progress=False)
    held_out = float(np.mean([r["psnr"] for r in result["per_frame"] if r["frame"] != 0]))
    return result["flicker_ratio"], held_out


def pass_cost(clip: str, frames: int | None, max_side: int, work: Path) -> None:
    """The pass's own time per frame (flow cached beforehand) over the pencil filter's frames: a
    textured, flickering input, so auto works as hard as it ever does. Best of 3 passes."""
    folder = work / clip
    video = shrunk_copy(clip, frames, max_side, folder)
    flow = compute_flow(video, folder / "flow", show_progress=False)
    pairs = [(frame, FILTERS["pencil"](frame)) for _, frame in video.frames()]
    best = float("inf")
    for _ in range(3):
        steady = TemporalPass(flow, "auto")
        start = time.perf_counter()
        for index, (frame, styled) in enumerate(pairs):
            steady(index, frame, styled)
        best = min(best, (time.perf_counter() - start) / len(pairs))
    print(f"{clip}: {len(video)} frames of {video.width}x{video.height}; the temporal pass (auto) "
          f"{1000 * best:.1f} ms per frame, flow excluded (best of 3)", flush=True)


def run(clip: str, styles: list[str], inputs: list[str], iterations: int, frames: int | None, max_side: int,
        strengths: list[str], work: Path) -> None:
    folder = work / clip
    video = shrunk_copy(clip, frames, max_side, folder)
    start = time.perf_counter()
    flow = compute_flow(video, folder / "flow", show_progress=False)
    flow_ms = 1000 * (time.perf_counter() - start) / (len(video) - 1)
    print(f"\n{clip}: {len(video)} frames of {video.width}x{video.height}; DIS flow both ways {flow_ms:.1f} ms "
          f"per frame pair; fast preset, {iterations} iterations, keyframe 0", flush=True)
    for style in styles:
        paint = FILTERS[style]
        truth = folder / f"truth-{style}"
        with FrameWriter(truth, video.fps, overwrite=True) as writer:
            for index, frame in video.frames():
                writer.write(paint(frame), f"{index:05d}.png")
        print(f"  {style}: the filter frame by frame flickers {score(truth, video, truth, folder)[0]:.2f}x the footage")
        for filtered in [name == "filtered" for name in inputs]:
            model = train(video, paint(video.read(0)), iterations, folder, filtered)
            raw = folder / f"{style}-{filtered}-raw"
            model.render(video, raw, overwrite=True, show_progress=False, work_dir=folder, temporal="off")
            base = "filtered input" if filtered else "plain"
            ratio, psnr = score(raw, video, truth, folder)
            print(f"    {base:15s} pass off    flicker {ratio:.2f}x   held-out {psnr:.2f} dB", flush=True)
            for strength in strengths:
                chosen = strength if strength == "auto" else float(strength)
                out, ms, summary = steadied(video, raw, flow, chosen, folder / f"{style}-{filtered}-{strength}")
                ratio, psnr = score(out, video, truth, folder)
                print(f"    {base:15s} pass {strength:6s} flicker {ratio:.2f}x   held-out {psnr:.2f} dB   "
                      f"pass {ms:.1f} ms/frame   ({summary})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="+", default=["carphone_pristine", "bikes", "bigbuckbunny"])
    parser.add_argument("--styles", nargs="+", default=["watercolor", "pencil"], choices=sorted(FILTERS))
    parser.add_argument("--inputs", nargs="+", default=["plain", "filtered"], choices=["plain", "filtered"],
                        help="train on the raw frames and/or the temporally filtered ones")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--frames", type=int, default=60, help="first N frames of each clip (0: all)")
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--strengths", nargs="+", default=["auto", "0.3", "0.6"])
    parser.add_argument("--cost-only", action="store_true", help="only time the pass (no training)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, CPU")
    with tempfile.TemporaryDirectory() as tmp:
        for clip in args.clips:
            if args.cost_only:
                pass_cost(clip, args.frames or None, args.max_side, Path(tmp))
                continue
            run(clip, args.styles, args.inputs, args.iterations, args.frames or None, args.max_side, args.strengths, Path(tmp))


if __name__ == "__main__":
    main()
