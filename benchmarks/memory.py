"""Peak memory of a long, large stylization: the whole `stylize` job (training inputs, previews,
optical flow, render, temporal pass, H.264) on 1280x720 clips of 100 and 1000 frames.

    .venv/bin/python benchmarks/memory.py                 # 100 vs 1000 frames (~10 min on a 2-core CPU)
    .venv/bin/python benchmarks/memory.py --frames 50 200

The clip is real footage: bigbuckbunny scaled to 1280x720 and played back and forth to the length
asked for. Each length runs in its own process, which reports its peak RSS. The network is a tiny
one by default (--network tiny), so 1000 frames of 720p take minutes: its activations are the
same for every frame, so what grows with the frame count is the pipeline's. `--network default`
measures today's default network instead (about 1.5 s per 720p frame on a 2-core CPU).
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

TINY = {"preset": "fast", "filters": (8, 16, 16, 16, 16, 8), "resblocks": 1, "patch_size": 16, "batch_size": 8,
        "perceptual_backbone": "none"}


def make_clip(path: Path, frames: int) -> None:
    from reanimate.io.samples import sample_clip
    from reanimate.io.video import open_video
    from reanimate.io.writer import FrameWriter

    source = open_video(sample_clip("bigbuckbunny"))
    cycle = list(range(len(source))) + list(range(len(source) - 2, 0, -1))  # back and forth: no jump
    cache: dict[int, np.ndarray] = {}
    with FrameWriter(path, source.fps) as writer:
        for t in range(frames):
            index = cycle[t % len(cycle)]
            if index not in cache:
                cache[index] = cv2.resize(source.read(index), (1280, 720), interpolation=cv2.INTER_CUBIC)
            writer.write(cache[index])


def child(video: str, network: str, out: str) -> None:
    from reanimate import api
    from reanimate.io.video import open_video
    from reanimate.stylize.filters import watercolor

    opened = open_video(video)
    settings = TINY if network == "tiny" else {}
    started = time.perf_counter()
    api.stylize(opened, {0: watercolor(opened.read(0))}, out, iterations=3, device="cpu", show_progress=False,
                **settings)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RESULT {len(opened)} {peak_mib:.0f} {time.perf_counter() - started:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--network", choices=["tiny", "default"], default="tiny")
    parser.add_argument("--child", nargs=2, metavar=("VIDEO", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], args.network, args.child[1])
    rows = []
    with tempfile.TemporaryDirectory(prefix="reanimate-memory-") as work:
        for count in args.frames:
            clip = Path(work) / f"clip-{count}.mp4"
            make_clip(clip, count)
            result = subprocess.run([sys.executable, __file__, "--network", args.network, "--child", str(clip),
                                     str(Path(work) / f"out-{count}.mp4")], capture_output=True, text=True)
            line = next((s for s in result.stdout.splitlines() if s.startswith("RESULT")), None)
            if line is None:
                sys.exit(f"the {count}-frame run failed:\n{result.stderr[-2000:]}")
            _, frames, peak, seconds = line.split()
            rows.append((int(frames), float(peak), float(seconds)))
            print(f"1280x720, {frames:>5s} frames ({args.network} network): peak RSS {peak:>6s} MiB, {seconds} s",
                  flush=True)
    print(f"peak RSS at {rows[-1][0]} frames / at {rows[0][0]} frames: x{rows[-1][1] / rows[0][1]:.2f}")


if __name__ == "__main__":
    main()
