"""The cost of carrying the sound: a 10-minute clip's audio copied (the whole clip kept) and cut and
encoded (`--frames` keeping 9 of its 10 minutes), against rendering its 15,000 frames at 1080p.

    .venv/bin/python benchmarks/audio.py [--minutes 10] [--render-frames 3]

The sound's cost does not depend on the pictures' size, so the clip is made small (64x36, 25 fps,
a 48 kHz stereo AAC tone; made here with PyAV) and each output is written twice in one process, with
and without its sound: the difference is the audio pass. Rendering is timed on a few 1920x1080
frames with today's default network (`--preset auto`, CPU: the fast one) and scaled to the clip.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.stylize.config import load_config, resolve_preset
from reanimate.stylize.model import Generator
from reanimate.stylize.pipeline import Stylizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from media import make_clip  # noqa: E402  (the tests' maker of clips with sound)


def rewrite(video, out: Path, frames: list[int], sound: bool) -> tuple[float, object]:
    """(seconds, what was written) for `frames` of `video` (a fixed picture each: the encoder's cost stays small) to OUT."""
    picture = np.zeros((video.height, video.width, 3), np.uint8)
    start = time.perf_counter()
    with FrameWriter(out, video.fps, overwrite=True, like=video, frames=frames,
                     audio=video.path if sound else None, verbose=False) as writer:
        for _ in frames:
            writer.write(picture)
    return time.perf_counter() - start, writer.written


def render_seconds_per_frame(count: int) -> float:
    """Today's default network on 1920x1080 frames (CPU), seconds per frame."""
    config = load_config(resolve_preset("auto", torch.device("cpu")))
    stylizer = Stylizer(Generator(config.in_channels, config.filters, config.resblocks), {}, "cpu")
    frame = torch.rand(1, 3, 1080, 1920) * 2 - 1
    stylizer.stylize_tensor(frame[:, :, :256, :256])  # warm up
    start = time.perf_counter()
    for _ in range(count):
        stylizer.stylize_tensor(frame)
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--render-frames", type=int, default=3)
    args = parser.parse_args()
    fps, seconds = 25, args.minutes * 60
    count = round(seconds * fps)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        picture = np.zeros((36, 64, 3), np.uint8)
        clip = make_clip(tmp / "long.mp4", [picture] * count, fps=fps, audio_seconds=seconds)
        print(f"made a {args.minutes:g}-minute clip ({count} frames, AAC tone) in {time.perf_counter() - start:.0f} s")
        video = open_video(clip)
        cases = {"copy (whole clip)": list(range(count)),
                 "cut + encode (9 of 10 parts kept)": [i for i in range(count) if (i // (count // 10)) != 4]}
        render = render_seconds_per_frame(args.render_frames)
        print(f"rendering 1920x1080 with the default network: {render:.2f} s/frame, "
              f"{render * count / 60:.0f} min for the clip")
        for name, frames in cases.items():
            silent, _ = rewrite(video, tmp / "silent.mp4", frames, sound=False)
            loud, written = rewrite(video, tmp / "loud.mp4", frames, sound=True)
            audio = max(loud - silent, 0.0)
            print(f"{name}: audio pass {audio:.1f} s ({written.audio}; writing {silent:.1f} s without sound, "
                  f"{loud:.1f} s with) = {100 * audio / (render * len(frames)):.3g} % of rendering those frames")


if __name__ == "__main__":
    main()
