"""Studio (reanimate app) figures: how live the page feels on this machine.

    .venv/bin/python benchmarks/studio.py [--device cpu] [--seconds 30]

- time from "Start" to the first preview a person sees;
- training speed inside the studio (background thread, previews every 3 s) against the plain
  `Trainer` loop in the same process (the ratio is the app's overhead);
- live-camera latency per frame at several camera sizes;
- export speed (render + encode) in frames/s.
One keyframe of the real carphone clip painted by the 'watercolor' filter; the fast preset.
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from reanimate.app.studio import Studio
from reanimate.io.samples import sample_clip
from reanimate.stylize.config import load_config
from reanimate.stylize.data import Keyframe
from reanimate.stylize.filters import watercolor
from reanimate.stylize.train import Trainer


def plain_trainer_speed(frame: np.ndarray, device: str, seconds: float) -> float:
    trainer = Trainer(load_config("fast"), [Keyframe(0, frame, watercolor(frame))], device=device)
    trainer.train(iterations=3, show_progress=False)  # warm-up
    start, steps = time.perf_counter(), trainer.step
    trainer.train(seconds=trainer.elapsed + seconds, show_progress=False)
    return (trainer.step - steps) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seconds", type=float, default=30.0, help="training time per measurement")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, device {args.device}, "
          f"torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as scratch:
        studio = Studio(Path(scratch) / "session", device=args.device)
        print(studio.load_video(sample_clip("carphone_pristine")))
        frame = studio.frame(0)
        studio.set_keyframe(0, watercolor(frame))
        started = time.perf_counter()
        studio.start_training("fast")
        while studio.preview_version < 2:
            time.sleep(0.02)
        print(f"first preview after {time.perf_counter() - started:.2f} s")
        time.sleep(3)  # past the start-up
        step, clock = studio.status.step, time.perf_counter()
        while time.perf_counter() - clock < args.seconds:
            studio.heartbeat()
            time.sleep(0.5)
        studio_speed = (studio.status.step - step) / (time.perf_counter() - clock)
        studio.pause_training()
        plain_speed = plain_trainer_speed(frame, args.device, args.seconds)
        print(f"training: studio {studio_speed:.2f} steps/s, plain Trainer {plain_speed:.2f} steps/s "
              f"(ratio {studio_speed / plain_speed:.2f})")
        camera = (np.random.default_rng(0).random((480, 640, 3)) * 255).astype(np.uint8)
        for side in (160, 320, 640):
            studio.stylize_frame(camera, side)
            clock = time.perf_counter()
            for _ in range(10):
                studio.stylize_frame(camera, side)
            ms = (time.perf_counter() - clock) * 100
            print(f"camera {side}px longer side: {ms:.0f} ms/frame ({1000 / ms:.1f} frames/s)")
        clock = time.perf_counter()
        studio.export(show_progress=False)
        print(f"export of {len(studio.video)} frames at 176x144: {len(studio.video) / (time.perf_counter() - clock):.1f} "
              "frames/s")
        studio.close()


if __name__ == "__main__":
    main()
