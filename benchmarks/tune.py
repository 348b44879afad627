"""The hyperparameter search on a small CPU grid: does the winner beat the preset it started from?

    .venv/bin/python benchmarks/tune.py [--clip carphone_pristine] [--seconds 20]

Keyframe 0 and held-out frame 60 are painted by the 'watercolor' filter; the grid varies
Wp, Nb, alpha and Nr around the `fast` preset; afterwards the best setting and the plain preset
each train for a longer budget and are scored on other frames (30 and 90) the search never saw.
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from reanimate import api
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.metrics import psnr
from reanimate.stylize.config import load_config
from reanimate.stylize.filters import watercolor

GRID = "patch_size=24,32,48; batch_size=20,40; lr=4e-4,8e-4; resblocks=3"


def check(video, key, preset: str, seconds: float, frames=(30, 90)) -> float:
    model = api.train(video, {0: key}, config=load_config(preset), seconds=seconds, device="cpu", show_progress=False)
    return float(np.mean([psnr(model([f])[0], watercolor(f)) for f in video.read_many(frames).values()]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default="carphone_pristine")
    parser.add_argument("--seconds", type=float, default=20.0, help="per setting")
    parser.add_argument("--grid", default=GRID)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, CPU")
    video = open_video(sample_clip(args.clip))
    key = watercolor(video.read(0))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = api.tune(video, {0: key}, {60: watercolor(video.read(60))}, Path(tmp) / "search", grid=args.grid,
                          seconds=args.seconds, preset="fast", device="cpu", show_progress=False)
        print(f"{len(result['rows'])} settings x {args.seconds:g} s in {time.perf_counter() - start:.0f} s")
        for row in sorted(result["rows"], key=lambda r: r["l1"]):
            print(f"  Wp={row['patch_size']:2d} Nb={row['batch_size']:2d} lr={row['lr']:.0e} Nr={row['resblocks']}  "
                  f"steps {row['steps']:4d}  held-out L1 {row['l1']:.4f}  PSNR {row['psnr']:.2f} dB")
        budget = 4 * args.seconds
        tuned, plain = check(video, key, str(result["preset"]), budget), check(video, key, "fast", budget)
        print(f"unseen frames 30, 90 after {budget:g} s: tuned {tuned:.2f} dB, fast preset {plain:.2f} dB "
              f"(x{10 ** ((tuned - plain) / 10):.2f} lower MSE)")


if __name__ == "__main__":
    main()
