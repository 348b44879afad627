"""Flicker suppression figures: temporal error and held-out PSNR with and without each technique.

    .venv/bin/python benchmarks/temporal.py [--clips carphone_pristine bikes] [--iterations 400]

One keyframe (frame 0, the 'watercolor' filter), the same training steps for every variant; the
output is rendered to PNG (no codec noise) and scored by `reanimate.api.metrics`: the flow-warped
temporal error between consecutive output frames, and PSNR against the filter on every frame
other than the keyframe. Also reports the optical-flow cost per frame.
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from reanimate import api
from reanimate.io.flow import compute_flow
from reanimate.io.samples import sample_clip
from reanimate.io.video import FrameWriter, open_video
from reanimate.stylize.filters import watercolor

VARIANTS = {"plain": {}, "gauss guide": {"guide": "gauss"}, "filtered input": {"filter_input": True},
            "guide + filter": {"guide": "gauss", "filter_input": True}}


def run(clip: str, iterations: int, preset: str, frames: int | None, work: Path) -> None:
    source = open_video(sample_clip(clip))
    count = min(len(source), frames or len(source))
    folder = work / clip
    with FrameWriter(folder / "frames", source.fps, overwrite=True) as writer:  # a shorter clip as PNGs
        for index, frame in source.frames(range(count)):
            writer.write(frame, f"{index:05d}.png")
    video = open_video(folder / "frames")
    truth = folder / "truth"
    with FrameWriter(truth, video.fps, overwrite=True) as writer:
        for index, frame in video.frames():
            writer.write(watercolor(frame), f"{index:05d}.png")
    start = time.perf_counter()
    compute_flow(video, folder / "shared-flow" / "flow", show_progress=False)
    flow_ms = 1000 * (time.perf_counter() - start) / (len(video) - 1)
    print(f"\n{clip}: {len(video)} frames of {video.width}x{video.height}; DIS flow both ways "
          f"{flow_ms:.1f} ms per frame pair; {preset} preset, {iterations} iterations")
    key = watercolor(video.read(0))
    for name, options in VARIANTS.items():
        out = folder / name.replace(" ", "-").replace("+", "and")
        run_dir = folder / "shared-flow"  # every variant reuses the one flow cache
        start = time.perf_counter()
        model = _train(video, key, preset, iterations, run_dir, options)
        train_s = time.perf_counter() - start
        model.render(video, out, overwrite=True, show_progress=False, work_dir=run_dir)
        result = api.metrics(out, video, truth, work_dir=run_dir, show_progress=False)
        held_out = np.mean([r["psnr"] for r in result["per_frame"] if r["frame"] != 0])
        print(f"  {name:15s} temporal error {result['temporal_error']:.5f}   held-out PSNR {held_out:.2f} dB   "
              f"(train {train_s:.0f} s)", flush=True)


def _train(video, key, preset, iterations, flow_dir, options):
    """Train one variant; its guides and filtered input come from the shared flow cache."""
    from reanimate.stylize.config import load_config
    from reanimate.stylize.data import load_keyframes
    from reanimate.stylize.train import Trainer

    config = load_config(preset, **options)
    keyframes = load_keyframes(video, {0: key})
    inputs, seeds = api._inputs(video, keyframes, config, flow_dir, 0, False)
    trainer = Trainer(config, keyframes, None, "cpu", 0, None, inputs, seeds)
    trainer.train(iterations=iterations, show_progress=False)
    return trainer.stylizer()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="+", default=["carphone_pristine", "bikes"])
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--frames", type=int, default=60, help="first N frames of each clip")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, CPU")
    with tempfile.TemporaryDirectory() as tmp:
        for clip in args.clips:
            run(clip, args.iterations, args.preset, args.frames, Path(tmp))


if __name__ == "__main__":
    main()
