"""Does painting the suggested keyframes pay? The same training time with different keys.

    .venv/bin/python benchmarks/keyframes.py [--clip bikes] [--style watercolor] [--seconds 90]

On a real clip, an OpenCV filter stands in for the painter (so every frame's truth is known). Arms,
each trained for the same seconds with the `fast` preset from the same seed:
- frame 0 alone (what a user does without help);
- the first key `reanimate keyframes` suggests, then the first 2 and 3;
- 3 keys spread evenly (0, middle, last): the naive way to pick several.
Scored: PSNR against the filter on every 10th frame that no arm painted (held out), and the
coverage each set of keys gets by the suggestion's measure. The ratio to print: suggested 3 keys
minus frame 0 alone, in dB.
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from reanimate.io.flow import compute_flow
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.metrics import psnr
from reanimate.stylize.filters import FILTERS
from reanimate.stylize.job import train_keyframes
from reanimate.stylize.options import TrainOptions
from reanimate.stylize.suggest import coverage_matrix, greedy_keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="bikes", choices=["bikes", "carphone_pristine", "bigbuckbunny"])
    parser.add_argument("--style", default="watercolor", choices=sorted(FILTERS))
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(2)
    video = open_video(sample_clip(args.clip))
    painter = FILTERS[args.style]
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads; {args.clip} "
          f"({video.width}x{video.height}, {len(video)} frames), style {args.style}, {args.seconds:.0f} s per arm")
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        flow = compute_flow(video, Path(scratch) / "flow", show_progress=False)
        candidates, covered = coverage_matrix(video, flow, show_progress=False)
        order, curve, _ = greedy_keys(candidates, covered, 3)
        print(f"suggestion: keys in order {order}, coverage {' '.join(f'{c:.0%}' for c in curve)} "
              f"({time.perf_counter() - started:.0f} s with the flow)")
        last = len(video) - 1
        arms = {"frame 0 alone": [0], "1 suggested key": order[:1], "2 suggested keys": order[:2],
                "3 suggested keys": order[:3], "3 keys evenly spaced": [0, last // 2, last]}
        painted = {k: painter(f) for k, f in video.frames(sorted({k for keys in arms.values() for k in keys}))}
        held_out = [i for i in range(5, len(video), 10) if i not in painted]
        frames = dict(video.frames(held_out))
        truth = {i: painter(f) for i, f in frames.items()}
        input_psnr = np.mean([psnr(frames[i], truth[i]) for i in held_out])
        print(f"held-out frames: {len(held_out)} (every 10th, none painted); the unstylized input: {input_psnr:.2f} dB")
        results = {}
        for name, keys in arms.items():
            union = np.zeros(covered.shape[1:], bool)
            for key in keys:
                union |= covered[candidates.index(key)] if key in candidates else False
            model = train_keyframes(video, {k: painted[k] for k in keys}, TrainOptions(preset="fast", seconds=args.seconds),
                                    device=args.device, show_progress=False)
            outputs = model([frames[i] for i in held_out])
            score = float(np.mean([psnr(o, truth[i]) for o, i in zip(outputs, held_out)]))
            results[name] = score
            print(f"{name:22s} keys {str(sorted(keys)):16s} coverage {union.mean():4.0%}  held-out PSNR {score:.2f} dB",
                  flush=True)
    gain = results["3 suggested keys"] - results["frame 0 alone"]
    print(f"3 suggested keys vs frame 0 alone: {gain:+.2f} dB; vs 3 evenly spaced: "
          f"{results['3 suggested keys'] - results['3 keys evenly spaced']:+.2f} dB")


if __name__ == "__main__":
    main()
