"""Held-out quality of every kind of style against EbSynth: smooth (watercolor), textured (pencil),
edge-and-flat (cartoon) and hatched (hatching), one painted key, a fixed training budget.

    .venv/bin/python benchmarks/styles.py [--clips carphone_pristine bikes bigbuckbunny]
        [--styles watercolor pencil cartoon hatching] [--seconds 90] [--set patch_size=48 ...]
        [--flicker] [--sheet crops.png] [--ebsynth /opt/ebsynth/bin/ebsynth]

Each cell (clip x style): keyframe 0 painted by the filter (`stylize.filters`), `reanimate
stylize`'s default training for --seconds on this CPU, then 6 frames spread over the clip scored
against the filter applied to them: PSNR on the whole frame and on the outline pixels alone (the
darkest tenth of the truth, dilated by 1 px: what edge-and-flat and hatched styles are made of),
against EbSynth's CPU build run on the same frames from the same key (built outside the project:
github.com/jamriska/ebsynth, build-linux-cpu_only.sh; its outputs are cached per cell in --work).
--flicker also renders the whole clip with the temporal pass and reports the flicker ratio (1.0 =
as steady as the footage) and the seconds a frame that render took (its own flow included). --set
changes `StylizeConfig` fields, to measure a candidate against the default in another run. Clips are shrunk to a longer side of 640 px, as benchmarks/temporal.py does.
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import yaml

from reanimate import api
from reanimate.io.image import read_image, write_png
from reanimate.metrics import psnr
from reanimate.stylize.filters import FILTERS
from reanimate.stylize.job import train_keyframes
from reanimate.stylize.options import TrainOptions
from speed import ebsynth_frames
from temporal import shrunk_copy

SCORED = 6  # held-out frames a cell is scored on, spread over the clip


def outline_mask(truth: np.ndarray) -> np.ndarray:
    """The darkest tenth of a painted frame, dilated by a pixel: its outlines and strokes."""
    luma = cv2.cvtColor(truth, cv2.COLOR_RGB2GRAY)
    dark = luma <= np.percentile(luma, 10)
    return cv2.dilate(dark.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def masked_psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    error = np.mean((a[mask].astype(np.float64) - b[mask]) ** 2)
    return float(10 * np.log10(255 ** 2 / max(error, 1e-10)))


def scores(outputs: dict, truths: dict) -> tuple[float, float]:
    whole = np.mean([psnr(outputs[i], truths[i]) for i in truths])
    edges = np.mean([masked_psnr(outputs[i], truths[i], outline_mask(truths[i])) for i in truths])
    return float(whole), float(edges)


def cached_ebsynth(binary: str, key, painted, frames: dict, folder: Path) -> tuple[dict, float | None]:
    """EbSynth's outputs for a cell, from an earlier run when the same frames were done before."""
    folder.mkdir(parents=True, exist_ok=True)
    done = {i: folder / f"out-{i}.png" for i in frames}
    if all(path.is_file() for path in done.values()):
        return {i: read_image(path) for i, path in done.items()}, None
    seconds, outputs = ebsynth_frames(binary, key, painted, frames, folder)
    return outputs, seconds


def crop_row(truth: np.ndarray, ours: np.ndarray, theirs: np.ndarray, side: int = 96) -> np.ndarray:
    """truth | ours | EbSynth, cut around the frame's densest outlines, shown at 2x."""
    mask = outline_mask(truth).astype(np.float32)
    density = cv2.boxFilter(mask, -1, (side, side))
    h, w = mask.shape
    density[:side // 2], density[h - side // 2:], density[:, :side // 2], density[:, w - side // 2:] = 0, 0, 0, 0
    y, x = np.unravel_index(np.argmax(density), density.shape)
    y0, x0 = max(0, min(h - side, y - side // 2)), max(0, min(w - side, x - side // 2))
    crops = [image[y0:y0 + side, x0:x0 + side] for image in (truth, ours, theirs)]
    return cv2.resize(np.concatenate(crops, 1), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)


def run_cell(video, clip: str, style: str, args, overrides: dict, work: Path) -> tuple[str, np.ndarray]:
    paint = FILTERS[style]
    scored = np.linspace(0, len(video) - 1, SCORED + 1).round().astype(int)[1:].tolist()
    frames = video.read_many(scored)
    truths = {i: paint(f) for i, f in frames.items()}
    key = video.read(0)
    painted = paint(key)
    cell = work / clip / style
    model = train_keyframes(video, {0: painted}, options=TrainOptions.of(seconds=args.seconds, **overrides),
                            device="cpu", run_dir=None, show_progress=False)
    ours = dict(zip(scored, model([frames[i] for i in scored])))
    line = [f"{clip:18s} {style:10s}", f"input {scores(frames, truths)[0]:5.2f} dB",
            f"ours {scores(ours, truths)[0]:5.2f} dB (outlines {scores(ours, truths)[1]:5.2f}) "
            f"in {model.config['training']['steps']} steps"]
    theirs = None
    if args.ebsynth and Path(args.ebsynth).is_file():
        theirs, seconds = cached_ebsynth(args.ebsynth, key, painted, frames, work / "ebsynth" / clip / style)
        whole, edges = scores(theirs, truths)
        line.append(f"EbSynth {whole:5.2f} dB (outlines {edges:5.2f})"
                    + (f", {seconds:.1f} s/frame" if seconds else ", cached"))
        line.append(f"ours - EbSynth {scores(ours, truths)[0] - whole:+5.2f} dB "
                    f"(outlines {scores(ours, truths)[1] - edges:+5.2f})")
    if args.flicker:
        out = cell / "out"
        rendering = time.perf_counter()  # (the flow of the temporal pass included: its own folder, not shared)
        model.render(video, out, overwrite=True, show_progress=False, work_dir=cell / "render")
        per_frame = (time.perf_counter() - rendering) / len(video)
        truth_dir = cell / "truth"
        truth_dir.mkdir(parents=True, exist_ok=True)
        for index, frame in video.frames():
            write_png(truth_dir / f"{index:05d}.png", paint(frame))
        footage = api.metrics(truth_dir, video, work_dir=work / clip, show_progress=False)["flicker_ratio"]
        ratio = api.metrics(out, video, work_dir=work / clip, show_progress=False)["flicker_ratio"]
        line.append(f"flicker {ratio:.2f}x (the filter itself {footage:.2f}x), {per_frame:.2f} s/frame to render "
                    "(temporal pass and its flow included)")
    print("  " + ";  ".join(line), flush=True)
    middle = scored[len(scored) // 2]
    row = crop_row(truths[middle], ours[middle], theirs[middle] if theirs else frames[middle])
    return style, row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="+", default=["carphone_pristine", "bikes", "bigbuckbunny"])
    parser.add_argument("--styles", nargs="+", default=list(FILTERS), choices=list(FILTERS))
    parser.add_argument("--seconds", type=float, default=90.0, help="training budget of each cell")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="StylizeConfig fields to change")
    parser.add_argument("--flicker", action="store_true", help="render whole clips: flicker and time per frame")
    parser.add_argument("--sheet", type=Path, help="write truth | ours | EbSynth crops of each cell here")
    parser.add_argument("--ebsynth", default="/opt/ebsynth/bin/ebsynth")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "reanimate-styles",
                        help="shrunk clips, flow and EbSynth's outputs, kept between runs")
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = yaml.safe_load(value)
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; {args.seconds:.0f} s a cell"
          + (f"; changed: {overrides}" if overrides else "; default settings"), flush=True)
    if not Path(args.ebsynth).is_file():
        print(f"  (EbSynth not found at {args.ebsynth}: build it from github.com/jamriska/ebsynth)")
    rows = []
    for clip in args.clips:
        video = shrunk_copy(clip, None, 640, args.work / clip)
        for style in args.styles:
            rows.append(run_cell(video, clip, style, args, overrides, args.work)[1])
    if args.sheet:
        width = max(r.shape[1] for r in rows)
        write_png(args.sheet, np.concatenate([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)),
                                                     constant_values=255) for r in rows]))
        print(f"crops (truth | ours | EbSynth) in {args.sheet}")


if __name__ == "__main__":
    main()
