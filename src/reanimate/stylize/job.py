"""The stylization job: painted keyframes of a video in, a trained `Stylizer` and restyled frames out.

This is what `reanimate stylize`, `reanimate tune` and the public API run, in one place: open the
video, check the keyframes and outputs before minutes of training, build the network inputs
(optical flow, guides, filtered frames), train resumably in a run folder, save the model, render.
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from reanimate.core.device import resolve_device
from reanimate.core.errors import UserError
from reanimate.core.files import check_writable, work_dir_for
from reanimate.core.progress import say
from reanimate.io.flow import DEFAULT_FLOW_SIDE, compute_flow
from reanimate.io.image import write_png
from reanimate.io.video import Video, open_video
from reanimate.io.writer import check_alpha_output, check_output_free
from reanimate.stylize.config import StylizeConfig, load_config, resolve_preset
from reanimate.stylize.consistency import parse_strength
from reanimate.stylize.data import load_keyframes
from reanimate.stylize.inputs import training_inputs
from reanimate.stylize.matte import Matte
from reanimate.stylize.options import StylizeOptions, TrainOptions
from reanimate.stylize.pipeline import Stylizer, check_depth
from reanimate.stylize.suggest import key_coverage, suggest_keyframes, suggestion_sheet
from reanimate.stylize.train import Trainer, unfinished_run_config
from reanimate.stylize.tune import DEFAULT_GRID, parse_grid, tune

PathLike = str | os.PathLike
DEFAULT_SECONDS = {"cpu": 180.0, "mps": 90.0, "cuda": 30.0}  # the training budget when none is given


def precision_for(precision: str, depth: int) -> str:
    """16-bit output asks for the network's float32 output: "auto"'s bf16 or fp16 keeps 8-11 bits."""
    return "fp32" if depth == 16 and precision == "auto" else precision


def as_video(video: Video | PathLike) -> Video:
    """An opened `Video` from a path (file or frame folder) or an already opened one."""
    return video if isinstance(video, Video) else open_video(video)


def preview_indices(num_frames: int, keys=(), count: int = 3) -> list[int]:
    """What training shows: the frames farthest in time from every keyframe (and from each other),
    where the painted colours have the least to go on. Without keys, frames spread over the video."""
    frames = np.arange(num_frames)
    chosen = [int(k) for k in keys if 0 <= int(k) < num_frames]
    if not chosen:
        return sorted({int(i) for i in np.linspace(0, num_frames - 1, count + 2).round().astype(int)[1:-1]})
    previews = []
    for _ in range(min(count, num_frames - len(set(chosen)))):
        distance = np.min(np.abs(frames[:, None] - np.array(chosen)[None, :]), axis=1)
        farthest = int(np.argmax(distance))
        chosen.append(farthest)
        previews.append(farthest)
    return sorted(previews)


def train_keyframes(video: Video | PathLike, keys: dict[int, Any], masks: dict[int, Any] | None = None,
                    options: TrainOptions = TrainOptions(), *, device: str = "auto", run_dir: PathLike | None = None,
                    show_progress: bool = True, render_precision: str | None = None) -> Stylizer:
    """Train a network on the keyframes; see `reanimate.api.train` and `TrainOptions`. The `Stylizer`
    returned renders in `render_precision` (default: the training's precision)."""
    video = as_video(video)
    chosen = resolve_device(device)
    keyframes = load_keyframes(video, keys, masks)
    config = options.config
    auto = config is None and options.preset == "auto"
    if auto and not options.overrides:
        config = unfinished_run_config(run_dir, keyframes, options.seed)  # finish an interrupted run as it began
        if config is not None:
            auto = False
    config = config or load_config(resolve_preset(options.preset, chosen), **options.overrides)
    if run_dir is not None:
        check_writable(Path(run_dir) / "preview.png")  # before the training, not at its first save
    iterations, seconds = options.iterations, options.seconds
    if iterations is None and seconds is None:
        seconds = DEFAULT_SECONDS[chosen.type]
    # Without a run folder, guides still need a flow cache: a throwaway one, removed afterwards.
    scratch = tempfile.mkdtemp(prefix="reanimate-flow-") if config.needs_flow and run_dir is None else None
    try:
        inputs, seeds = training_inputs(video, keyframes, config, run_dir or scratch, options.seed, show_progress)
        previews = preview_indices(len(video), keys) if run_dir else []
        previews = video.read_many(previews) if previews else None
        trainer = Trainer(config, keyframes, run_dir, chosen, options.seed, previews, inputs, seeds, options.precision)
        say(f"network: preset {config.preset}{' (auto)' if auto else ''} on {chosen}, "
            f"{str(trainer.dtype).removeprefix('torch.')}; {video.width}x{video.height}, {len(keyframes)} keyframe(s)",
            show_progress)
        trainer.train(iterations=iterations, seconds=seconds, show_progress=show_progress)
        # A time budget buys a different number of steps on a busy or slower machine: say how many.
        repeat = f"; `iterations` {trainer.step} repeats this training exactly" if config.lr_schedule == "constant" else ""
        say(f"trained {trainer.step} steps in {trainer.elapsed:.0f} s "
            f"({trainer.step / max(trainer.elapsed, 1e-9):.1f} steps/s){repeat}", show_progress)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return trainer.stylizer(precision=render_precision or options.precision)


def stylize_video(video: Video | PathLike, keys: dict[int, Any], out: PathLike,
                  masks: dict[int, Any] | None = None, options: StylizeOptions = StylizeOptions(), *,
                  device: str = "auto", run_dir: PathLike | None = None, overwrite: bool = False,
                  show_progress: bool = True) -> Path:
    """Train, save the model into the run folder (and `save_model`), render OUT; see `reanimate.api.stylize`
    and `StylizeOptions` (whose values were checked when it was made)."""
    video = as_video(video)
    check_output_free(out, overwrite)  # refuse before minutes of training, not after
    checked = load_keyframes(video, keys, masks)  # indices and sizes, before the flow and the training
    if options.alpha:  # refused before the training, not after
        check_alpha_output(out)
        painted = {k.index: k.mask for k in checked}
        unmasked = sorted(index for index, mask in painted.items() if mask is None)
        if unmasked:
            raise UserError(f"`alpha`: the layer's alpha comes from the keyframes' masks, and keyframe(s) "
                            f"{', '.join(map(str, unmasked))} have none: give each a mask of what it paints "
                            "(`masks`; a white image for a whole frame)")
    if options.save_model is not None:
        check_output_free(options.save_model, overwrite)
    run_dir = Path(run_dir) if run_dir is not None else work_dir_for(out)
    # The flow it needs is the temporal pass's, computed once and cached in the run folder.
    hint = coverage_hint(video, [k.index for k in checked], run_dir, show_progress)
    if hint:
        say(hint, show_progress)
    precision = options.train.precision
    model = train_keyframes(video, keys, masks, options.train, device=device, run_dir=run_dir,
                            show_progress=show_progress, render_precision=precision_for(precision, options.depth))
    model.save_pretrained(run_dir / "model", overwrite=True)
    matte = None
    if options.alpha:
        flow = compute_flow(video, run_dir / "flow", model.input_settings.get("flow_side", DEFAULT_FLOW_SIDE),
                            show_progress)
        matte = Matte(painted, flow, video.size)
    written = model.render(video, out, options.frames, options.render_batch, overwrite=overwrite,
                           show_progress=show_progress, work_dir=run_dir, temporal=options.temporal,
                           depth=options.depth, matte=matte)
    # The user's copy last: a run killed before it finds neither output and does the job again;
    # published before the video, the model would make that rerun stop at "already exists".
    if options.save_model is not None:
        model.save_pretrained(options.save_model, overwrite=overwrite)
    say(f"preview and model in {run_dir}", show_progress)
    say(f"wrote {model.written}", show_progress)
    return written


def coverage_hint(video: Video, keys, work_dir: PathLike, show_progress: bool = True) -> str | None:
    """What to tell the user before training when the painted `keys` cover little of the video (and
    which frames to paint too); None when they cover enough or the video is a single frame."""
    if video.num_frames < 2:
        return None
    flow = compute_flow(video, Path(work_dir) / "flow", show_progress=show_progress)
    return key_coverage(video, flow, sorted(keys), show_progress=show_progress).hint()


def render_video(model: PathLike | Stylizer, video: Video | PathLike, out: PathLike, *,
                 frames: list[int] | None = None, temporal: float | str = "auto", device: str = "auto",
                 precision: str = "auto",
                 batch_size: int | None = None, tile: int | None = None, overwrite: bool = False,
                 depth: int = 8, show_progress: bool = True) -> Path:
    """Restyle a video with a trained or saved model; see `reanimate.api.render`."""
    parse_strength(temporal)
    check_output_free(out, overwrite)
    check_depth(depth)
    precision = precision_for(precision, depth)
    stylizer = model if isinstance(model, Stylizer) else Stylizer.from_pretrained(model, device, precision, tile)
    written = stylizer.render(as_video(video), out, frames, batch_size, overwrite=overwrite,
                              show_progress=show_progress, temporal=temporal, depth=depth)
    say(f"wrote {stylizer.written}", show_progress)
    return written


def tune_video(video: Video | PathLike, keys: dict[int, Any], holdout: dict[int, Any], out: PathLike,
               masks: dict[int, Any] | None = None, *, grid: str | None = None, seconds: float = 30.0,
               preset: str = "fast", device: str = "auto", seed: int = 0, show_progress: bool = True,
               **overrides: Any) -> dict[str, Any]:
    """The hyperparameter search of Texler et al. (Sec. 5) on a video; see `reanimate.api.tune`."""
    video = as_video(video)
    config = load_config(resolve_preset(preset, resolve_device(device)), **overrides)
    keyframes = load_keyframes(video, keys, masks)
    truth = load_keyframes(video, holdout)  # the same checks: index in range, size of the video
    inputs, seeds = training_inputs(video, keyframes, config, out, seed, show_progress)
    return tune(config, keyframes, {k.index: k.style for k in truth}, Path(out), parse_grid(grid or DEFAULT_GRID),
                seconds, inputs, device, seed, seeds, show_progress)


def suggest_video_keyframes(video: Video | PathLike, *, count: int | None = None, max_count: int = 8,
                            tolerance: float = 24.0, sheet: PathLike | None = None, work_dir: PathLike | None = None,
                            show_progress: bool = True) -> dict[str, Any]:
    """Which frames to paint; see `reanimate.api.suggest_keyframes`."""
    if (count is not None and count < 1) or max_count < 1:
        raise UserError(f"ask for at least one keyframe (count {count}, max_count {max_count})")
    video = as_video(video)
    if video.num_frames < 2:
        raise UserError(f"{video.path} has {video.num_frames} frame: there is nothing to choose from")
    if sheet is not None:
        check_writable(sheet)
    work = Path(work_dir) if work_dir is not None else work_dir_for(sheet or f"{Path(video.path).stem}-keyframes")
    flow = compute_flow(video, work / "flow", show_progress=show_progress)
    suggestion = suggest_keyframes(video, flow, count, max_count, tolerance, show_progress)
    result = {"keys": suggestion.chosen, "order": suggestion.keys, "coverage": [round(c, 4) for c in suggestion.coverage],
              "count": suggestion.count, "least_covered": suggestion.farthest(), "frames": video.num_frames}
    if sheet is not None:
        write_png(sheet, suggestion_sheet(video, suggestion))
        result["sheet"] = str(sheet)
    return result
