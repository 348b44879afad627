"""Stylization speed before and after "seconds, not minutes": the old default (the paper network in
float32, contiguous) against today's (`--preset auto`, `--precision auto`), in one process.

    .venv/bin/python benchmarks/speed.py                  # all parts (~20 min on a 2-core CPU)
    .venv/bin/python benchmarks/speed.py --parts render   # render | job | quality, any of them

render:  ms per 640x360 frame of each inference path, ratios against the old default.
job:     the whole `reanimate stylize` job on bikes (train, previews, flow, render, temporal pass,
         H.264), time per frame beyond training, held-out PSNR; EbSynth's CPU build on the same
         frames in the same run (--ebsynth, built outside the project from its public repository).
quality: held-out PSNR against training time on carphone and bikes: today's default after 10, 20
         and 30 s against the old default after 90 s.
Quality: keyframe 0 painted by the deterministic 'watercolor' filter; held-out frames are scored
against the filter applied to them.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from reanimate.core.device import compute_dtype, resolve_device
from reanimate.io.flow import compute_flow
from reanimate.io.image import read_image, write_png
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.metrics import psnr
from reanimate.stylize.config import load_config, resolve_preset
from reanimate.stylize.data import Keyframe
from reanimate.stylize.filters import watercolor
from reanimate.stylize.job import train_keyframes
from reanimate.stylize.model import Generator
from reanimate.stylize.options import TrainOptions
from reanimate.stylize.pipeline import Stylizer
from reanimate.stylize.train import Trainer

OLD = {"preset": "paper", "precision": "fp32"}  # the default before
NEW = {"preset": "auto", "precision": "auto"}


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"auto precision here: {str(compute_dtype('auto', torch.device('cpu'))).removeprefix('torch.')}")


def old_style(stylizer: Stylizer) -> Stylizer:
    """The render path before: contiguous tensors."""
    stylizer.memory_format = torch.contiguous_format
    stylizer.generator.to(memory_format=torch.contiguous_format)
    return stylizer


def best_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return 1000 * min(times)


def render_part(repeats: int) -> None:
    print("\nrender, ms per 640x360 frame (best of", repeats, "after a warm-up):", flush=True)
    x = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (1, 3, 360, 640)).astype(np.float32))
    nets = {preset: Generator(3, load_config(preset).filters, load_config(preset).resblocks) for preset in ("paper", "fast")}
    paths = {
        "old default: paper, fp32": lambda: old_style(Stylizer(nets["paper"], {}, "cpu", "fp32")),
        "fast, fp32": lambda: old_style(Stylizer(nets["fast"], {}, "cpu", "fp32")),
        "fast, fp32, channels_last": lambda: Stylizer(nets["fast"], {}, "cpu", "fp32"),
        "new default: fast, auto precision, channels_last": lambda: Stylizer(nets["fast"], {}, "cpu", "auto"),
    }
    results = {}
    for name, make in paths.items():
        stylizer = make()
        results[name] = best_ms(lambda: stylizer.stylize_tensor(x), repeats)
    new = Stylizer(nets["fast"], {}, "cpu", "auto")
    started = time.perf_counter()
    compiled = torch.compile(new.generator)
    with torch.inference_mode():
        compiled(x.to(new.dtype).contiguous(memory_format=torch.channels_last))
    compile_s = time.perf_counter() - started

    def run_compiled():
        with torch.inference_mode():
            compiled(x.to(new.dtype).contiguous(memory_format=torch.channels_last))

    results[f"new default + torch.compile (compiling took {compile_s:.0f} s)"] = best_ms(run_compiled, repeats)
    try:
        import onnxruntime as ort

        from reanimate.stylize.export import to_onnx_bytes

        session = ort.InferenceSession(to_onnx_bytes(Stylizer(nets["fast"], {}, "cpu", "fp32").generator),
                                       providers=["CPUExecutionProvider"])
        results["fast in ONNX Runtime (fp32)"] = best_ms(lambda: session.run(None, {"input": x.numpy()}), repeats)
    except ImportError:
        print("  (onnxruntime not installed: pip install 'reanimate[onnx]')")
    base = results["old default: paper, fp32"]
    for name, ms in results.items():
        print(f"  {name:58s} {ms:7.0f} ms  x{base / ms:5.2f}", flush=True)


def held_out(video, indices):
    frames = video.read_many(indices)
    return frames, {i: watercolor(f) for i, f in frames.items()}


def ebsynth_frames(binary: str, key: np.ndarray, painted: np.ndarray, frames: dict, folder: Path) -> tuple[float, dict]:
    write_png(folder / "key.png", key)
    write_png(folder / "painted.png", painted)
    outputs, started = {}, time.perf_counter()
    for index, frame in frames.items():
        write_png(folder / f"target-{index}.png", frame)
        subprocess.run([binary, "-style", folder / "painted.png", "-guide", folder / "key.png", folder / f"target-{index}.png",
                        "-output", folder / f"out-{index}.png"], check=True, capture_output=True)
        outputs[index] = read_image(folder / f"out-{index}.png")
    return (time.perf_counter() - started) / len(frames), outputs


def job_part(seconds: float, old_frames: int, ebsynth: str | None, work: Path) -> None:
    video = open_video(sample_clip("bikes"))
    print(f"\nthe whole job on bikes ({video.width}x{video.height}, {len(video)} frames), {seconds:.0f} s of training, "
          "keyframe 0:", flush=True)
    key = video.read(0)
    painted = watercolor(key)
    scored = [i for i in range(10, old_frames, 10)] + [old_frames - 1]
    frames, targets = held_out(video, scored)
    input_psnr = np.mean([psnr(frames[i], targets[i]) for i in scored])
    started = time.perf_counter()
    compute_flow(video, work / "flow", show_progress=False)  # once per video, cached: shared by both runs
    flow_s = time.perf_counter() - started
    print(f"  optical flow (cached, once per video): {flow_s:.0f} s; unstylized input {input_psnr:.2f} dB", flush=True)
    rows = {}
    for name, settings, count in (("today's default", NEW, len(video)), ("old default", OLD, old_frames)):
        run = work / name.replace(" ", "-").replace("'", "")
        run.mkdir()
        (run / "flow").symlink_to(work / "flow")
        started = time.perf_counter()
        model = train_keyframes(video, {0: painted}, options=TrainOptions.of(seconds=seconds, **settings), device="cpu",
                                run_dir=run, show_progress=False)
        trained = time.perf_counter() - started
        out = run / "out.mp4"
        if settings is OLD:
            old_style(model)  # (read-ahead, write-behind and the spaced previews help it too: a conservative baseline)
        model.render(video, out, range(count), work_dir=run, show_progress=False)
        total = time.perf_counter() - started
        beyond = (total - model.config["training"]["seconds"]) / count
        rendered = open_video(out).read_many(scored)
        quality = np.mean([psnr(rendered[i], targets[i]) for i in scored])
        rows[name] = beyond
        print(f"  {name:16s} preset {model.config['training']['preset']}, {model.config['training']['steps']} steps; "
              f"training phase {trained:.0f} s; {count} frames; per frame beyond training {beyond:.2f} s; "
              f"held-out PSNR {quality:.2f} dB", flush=True)
    if ebsynth and Path(ebsynth).is_file():
        per_frame, outputs = ebsynth_frames(ebsynth, key, painted, {i: frames[i] for i in scored}, work / "ebsynth")
        quality = np.mean([psnr(outputs[i], targets[i]) for i in scored])
        print(f"  EbSynth (CPU build, frame by frame from the key): {per_frame:.2f} s per frame; held-out PSNR {quality:.2f} dB")
        new, old = rows["today's default"], rows["old default"]
        print(f"  per frame beyond training: today's default x{per_frame / new:.1f} faster than EbSynth, "
              f"the old default x{per_frame / old:.1f}")
    else:
        print(f"  (EbSynth not found at {ebsynth}: build it from github.com/jamriska/ebsynth, build-linux-cpu_only.sh)")


def quality_part(clips: list[str], old_seconds: float, checkpoints: list[float]) -> None:
    print("\nheld-out PSNR against training time (6 frames spread over the clip):", flush=True)
    for clip in clips:
        video = open_video(sample_clip(clip))
        scored = np.linspace(0, len(video) - 1, 7).round().astype(int)[1:].tolist()
        frames, targets = held_out(video, scored)
        key = video.read(0)
        line = [f"  {clip:18s} input {np.mean([psnr(frames[i], targets[i]) for i in scored]):5.2f} dB"]
        for name, settings, budgets in (("old default", OLD, [old_seconds]), ("today's default", NEW, checkpoints)):
            device = resolve_device("cpu")
            config = load_config(resolve_preset(settings["preset"], device))
            trainer = Trainer(config, [Keyframe(0, key, watercolor(key))], device=device, seed=0,
                              precision=settings["precision"])
            for budget in budgets:
                trainer.train(seconds=budget, show_progress=False)
                model = trainer.stylizer(precision=settings["precision"])
                score = np.mean([psnr(model([frames[i]])[0], targets[i]) for i in scored])
                line.append(f"{name} {config.preset} {budget:.0f} s ({trainer.step} steps) {score:5.2f} dB")
        print(";  ".join(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["render", "job", "quality"], choices=["render", "job", "quality"])
    parser.add_argument("--seconds", type=float, default=90.0, help="training budget of the job part")
    parser.add_argument("--old-frames", type=int, default=50, help="frames the old default renders in the job part")
    parser.add_argument("--ebsynth", default="/opt/ebsynth/bin/ebsynth")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clips", nargs="+", default=["carphone_pristine", "bikes"])
    args = parser.parse_args()
    print(f"machine: {machine()}; {time.strftime('%Y-%m-%d %H:%M')}")
    if "render" in args.parts:
        render_part(args.repeats)
    if "job" in args.parts:
        work = Path(tempfile.mkdtemp(prefix="reanimate-speed-"))
        try:
            (work / "ebsynth").mkdir()
            job_part(args.seconds, args.old_frames, args.ebsynth, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if "quality" in args.parts:
        quality_part(args.clips, 90.0, [10.0, 20.0, 30.0])


if __name__ == "__main__":
    sys.exit(main())
