"""Face data layer figures: landmark speed and accuracy, preparation rate, episode sampling rate.

    .venv/bin/python benchmarks/faces.py [--videos 4]

- Landmarks: frames/s of `LandmarkDetector.track` on the real carphone clip (176x144, enlarged
  for the detector) and on the same clip enlarged to 880x720; the peer is the same detector
  scanning the whole frame every frame (no tracking window), run in the same process.
- Accuracy: normalized mean error (by inter-ocular distance) of dlib against the exact landmarks
  of synthetic faces, and the landmark jitter on carphone before and after temporal smoothing.
- Preparation: frames/s of `reanimate faces prepare` over copies of carphone, 1 worker vs 2
  (wall time of the whole command, start-up included).
- Episodes: K=8 episodes/s at 256x256 from the prepared dataset, in-process and with a 2-worker
  DataLoader; and synthetic face rendering frames/s.
"""

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from reanimate.faces.episodes import EpisodeDataset
from reanimate.faces.landmarks import LandmarkDetector, jitter
from reanimate.faces.store import FaceDataset
from reanimate.faces.synth import animate, random_identity, render_face
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:7.1f}/s"


def landmarks(frames: list[np.ndarray]) -> None:
    tracking, scanning = LandmarkDetector(), LandmarkDetector(reacquire=0)  # reacquire=0: never a window
    big = [cv2.resize(f, (880, 720), interpolation=cv2.INTER_CUBIC) for f in frames]
    print("\nlandmarks, frames/s (tracking window | whole frame every frame | ratio)")
    for name, clip in (("carphone 176x144", frames), ("carphone enlarged 880x720", big)):
        timings, found = [], []
        for detector in (tracking, scanning):
            start = time.perf_counter()
            track = detector.track(clip)
            timings.append(time.perf_counter() - start)
            found.append(int(track.found.sum()))
        print(f"  {name:28s} {rate(len(clip), timings[0])} | {rate(len(clip), timings[1])} | "
              f"x{timings[1] / timings[0]:.2f}   face found in {found[0]} | {found[1]} of {len(clip)} frames")
    track = tracking.track(frames)
    print(f"  carphone jitter (acceleration / inter-ocular): raw {jitter(track.raw, track.found):.4f}, "
          f"smoothed (sigma 1) {jitter(track.points, track.found):.4f}")


def accuracy(identities: int = 12, frames: int = 10) -> None:
    detector, errors, found = LandmarkDetector(), [], 0
    for person in range(identities):
        face = random_identity(np.random.default_rng(person))
        rendered = [render_face(face, pose, 256) for pose in animate(np.random.default_rng(1000 + person), frames)]
        track = detector.track([image for image, _ in rendered], smooth=0)
        truth = np.stack([points for _, points in rendered])
        eyes = np.linalg.norm(truth[:, 36:42].mean(1) - truth[:, 42:48].mean(1), axis=-1)
        errors += list((np.linalg.norm(track.raw - truth, axis=-1).mean(1) / eyes)[track.found])
        found += int(track.found.sum())
    print(f"\ndlib on synthetic faces: found {found}/{identities * frames}, normalized mean error "
          f"{np.mean(errors):.3f} (median {np.median(errors):.3f}) of the inter-ocular distance")


def preparation(work: Path, videos: int) -> Path:
    src = work / "src"
    for i in range(videos):
        target = src / f"id{i % 2:02d}" / f"video{i:02d}" / "00001.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_clip("carphone_pristine"), target)
    print(f"\npreparation of {videos} x carphone (120 frames each) at 256x256")
    timings = {}
    for workers in (1, 2):
        # Through the command, as users run it: worker processes re-import the main module, and
        # this script's own imports (torch) would slow their start-up.
        out = work / f"faces-{workers}"
        command = [str(Path(sys.executable).parent / "reanimate"), "faces", "prepare", str(src), "--out", str(out),
                   "--workers", str(workers), "--json", "-q"]
        start = time.perf_counter()
        summary = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        timings[workers] = time.perf_counter() - start
        print(f"  {workers} worker(s): {rate(summary['frames'], timings[workers])} frames "
              f"({timings[workers]:.1f} s, {summary['frames_with_face']} crops)")
    print(f"  2 workers vs 1: x{timings[1] / timings[2]:.2f}")
    return work / "faces-1"


def episodes(dataset: Path, count: int = 40) -> None:
    data = EpisodeDataset(FaceDataset(dataset), k=8)
    start = time.perf_counter()
    for i in range(count):
        data.set_epoch(i)
        data[i % len(data)]
    single = time.perf_counter() - start
    loader = torch.utils.data.DataLoader(data, batch_size=1, num_workers=2, persistent_workers=False)
    start, seen = time.perf_counter(), 0
    for epoch in range(count // len(data) + 1):
        data.set_epoch(epoch)
        for _ in loader:
            seen += 1
    pooled = time.perf_counter() - start
    print(f"\nepisodes (K=8 + target, 256x256, frames and landmark images): in-process {rate(count, single)}, "
          f"DataLoader 2 workers {rate(seen, pooled)} (incl. worker start-up)")
    face = random_identity(np.random.default_rng(0))
    poses = animate(np.random.default_rng(1), 50)
    start = time.perf_counter()
    for pose in poses:
        render_face(face, pose, 256)
    print(f"synthetic faces rendered at 256x256: {rate(len(poses), time.perf_counter() - start)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
          f"{platform.python_version()}")
    frames = [frame for _, frame in open_video(sample_clip("carphone_pristine")).frames()]
    landmarks(frames)
    accuracy()
    with tempfile.TemporaryDirectory() as work:
        dataset = preparation(Path(work), args.videos)
        episodes(dataset)


if __name__ == "__main__":
    main()
