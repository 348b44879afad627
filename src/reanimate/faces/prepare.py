"""Turn a folder of videos into a face dataset: parallel, resumable, failures recorded.

Each source video is one job: find the tracked face's landmarks in every frame, cut steady square
crops, and write one clip file. A job's outcome goes to `records/<video>.json` only after its clip
file is in place, so a killed run resumes by skipping the videos that have a record, and a
half-done video is simply done again (its clip file is written atomically, never half).
"""

import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.files import write_json
from reanimate.core.progress import progress, say
from reanimate.faces.align import stable_crops
from reanimate.faces.store import (
    CLIPS_DIR,
    INDEX_FILE,
    ClipInfo,
    encode_jpeg,
    write_clip,
    write_dataset_header,
    write_index,
)
from reanimate.io.video import VIDEO_EXTENSIONS, open_video

RECORDS_DIR = "records"
IDENTITY_MODES = ("auto", "folder", "video")


@dataclass(frozen=True)
class PrepareSettings:
    """How crops are made; a resumed preparation must use the same."""

    size: int = 256
    margin: float = 0.4
    smooth: float = 1.0  # landmark smoothing, sigma in frames
    box_smooth: float = 4.0  # crop box smoothing, sigma in frames
    every: int = 1  # keep every n-th frame
    max_frames: int = 0  # per video, 0 = all

    def __post_init__(self):
        if self.size < 32:
            raise UserError(f"`size` {self.size} is too small: use at least 32 (the paper uses 256)")
        if not 0 <= self.margin <= 2:
            raise UserError(f"`margin` {self.margin} must lie between 0 and 2 (a fraction of the face size)")
        if self.smooth < 0 or self.box_smooth < 0:
            raise UserError("smoothing sigmas must be >= 0")
        if self.every < 1 or self.max_frames < 0:
            raise UserError("`every` must be >= 1 and `max_frames` >= 0")


def find_videos(src: Path) -> list[Path]:
    """Video files under `src` (any depth), sorted; `src` may also be a single video."""
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise UserError(f"{src} does not exist")
    return sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
                  and not any(part.startswith(".") for part in p.relative_to(src).parts))


def identity_of(relative: Path, mode: str, nested: bool) -> str:
    """VoxCeleb's id/video/clip.mp4: the first folder is the person. Flat folders: each video is one."""
    if mode == "folder" or (mode == "auto" and nested):
        return relative.parts[0] if len(relative.parts) > 1 else relative.stem
    return relative.with_suffix("").as_posix()


_detector = None


def _start_worker(parent: int) -> None:
    import signal
    import threading
    import time

    import cv2

    # One process per core already: OpenCV's own threads would only fight the other workers.
    cv2.setNumThreads(1)
    # Ctrl-C is the main process's to handle (it stops the pool); workers just finish or get stopped.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):  # die with the main process, even if it is killed outright
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # killed while this worker started, before the line above: nothing will tell us
        os._exit(1)
    if not sys.platform.startswith("linux"):  # elsewhere, look: an orphan is adopted by another process

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)
        threading.Thread(target=watch, daemon=True).start()


def _worker_detector():
    global _detector
    if _detector is None:
        from reanimate.faces.landmarks import LandmarkDetector

        _detector = LandmarkDetector()
    return _detector


def prepare_video(path: str, relative: str, identity: str, root: str, settings: dict) -> dict:
    """One job (runs in a worker process): landmarks, crops and the clip file of one video.

    Returns its record: status 'ok', 'no_face' or 'failed' (with the reason), frame counts, timing.
    """
    started = time.perf_counter()
    record = {"source": relative, "identity": identity, "status": "failed", "frames": 0, "frames_with_face": 0}
    options = PrepareSettings(**settings)
    try:
        clip = _face_clip(path, options, record)
    except UserError as exc:
        clip, record["reason"] = None, str(exc)
    except Exception as exc:  # whatever a damaged source makes a codec, OpenCV or dlib raise: record, go on
        clip, record["reason"] = None, f"{type(exc).__name__}: {exc}"
    if clip is not None:
        # Writing is outside the net above: a full disk or a read-only dataset must stop the run,
        # not mark every remaining video as failed.
        images, points, keep, fps = clip
        clip_file = Path(CLIPS_DIR) / (relative + ".safetensors")
        write_clip(Path(root) / clip_file, images, points, keep,
                   {"identity": identity, "source": relative, "fps": f"{fps:.6g}"})
        record.update(status="ok", file=clip_file.as_posix())
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record


def _face_clip(path: str, options: PrepareSettings, record: dict):
    """(JPEG crops, landmarks (N, 68, 2), source frame numbers, fps) of one video, or None if faceless."""
    video = open_video(path)
    wanted = list(range(0, len(video), options.every))
    if options.max_frames:
        wanted = wanted[:options.max_frames]
    record["frames"] = len(wanted)
    track = _worker_detector().track((frame for _, frame in video.frames(wanted)), smooth=options.smooth)
    found = track.found
    record["frames_with_face"] = int(found.sum())
    if not found.any():
        record.update(status="no_face", reason="no face found in any frame")
        return None
    crops = stable_crops(track.points, found, options.size, options.margin, options.box_smooth)
    keep = [wanted[i] for i in np.flatnonzero(found)]
    by_frame = dict(zip(wanted, range(len(wanted))))
    images, points = [], []
    # Second decoding pass: holding a whole HD video in memory between the passes would not scale.
    for frame_number, frame in video.frames(keep):
        position = by_frame[frame_number]
        crop = crops[position]
        images.append(encode_jpeg(crop.warp(frame)))
        points.append(crop.apply(track.points[position]))
    if len(images) != len(keep):
        raise UserError(f"the video decoded differently the second time ({len(images)} of {len(keep)} frames)")
    return images, np.stack(points), np.array(keep), video.fps / options.every


def _record_path(root: Path, relative: str) -> Path:
    return root / RECORDS_DIR / (relative + ".json")


def _read_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None  # missing or damaged: do that video again


def prepare_dataset(src: str | os.PathLike, out: str | os.PathLike, settings: PrepareSettings | None = None,
                    identity: str = "auto", workers: int | None = None, retry_failed: bool = False,
                    show_progress: bool = True) -> dict:
    """Prepare a face dataset from a folder of videos (see `reanimate.api.prepare_faces`)."""
    src, root = Path(src), Path(out)
    settings = settings or PrepareSettings()
    if identity not in IDENTITY_MODES:
        raise UserError(f"identity mode {identity!r}: choose one of {', '.join(IDENTITY_MODES)}")
    videos = find_videos(src)
    if not videos:
        raise UserError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) found under {src}")
    base = src.parent if src.is_file() else src
    relatives = [v.relative_to(base).as_posix() for v in videos]
    nested = any("/" in r for r in relatives)
    identities = {r: identity_of(Path(r), identity, nested) for r in relatives}
    write_dataset_header(root, "video", settings.size, {**asdict(settings), "identity": identity})
    for leftover in [*root.glob(f"{CLIPS_DIR}/**/.*.tmp-*"), *root.glob(f"{RECORDS_DIR}/**/.*.tmp-*")]:
        leftover.unlink(missing_ok=True)  # temporary files of a run that was killed

    records: dict[str, dict] = {}
    for relative in relatives:
        record = _read_record(_record_path(root, relative))
        if record and (record.get("status") == "ok" and (root / record.get("file", "")).is_file()
                       or record.get("status") in ("no_face", "failed") and not retry_failed):
            records[relative] = record
    todo = [r for r in relatives if r not in records]
    if todo:  # the dataset reads as unfinished until the new index is written
        (root / INDEX_FILE).unlink(missing_ok=True)
    if records:
        say(f"resuming: {len(records)} of {len(relatives)} videos already done", show_progress)

    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    bar = progress(len(todo), "videos", "video", enabled=show_progress)
    frames_done, started = 0, time.perf_counter()

    def finish(record: dict) -> None:
        nonlocal frames_done
        write_json(_record_path(root, record["source"]), record)
        records[record["source"]] = record
        frames_done += record["frames"]
        bar.set_postfix_str(f"{frames_done / max(time.perf_counter() - started, 1e-9):.1f} frames/s", refresh=False)
        bar.update()
        if record["status"] != "ok":
            say(f"skipped {record['source']}: {record.get('reason')}", show_progress)

    jobs = [(str(base / r), r, identities[r], str(root), asdict(settings)) for r in todo]
    with bar:
        if workers == 1:
            for job in jobs:
                finish(prepare_video(*job))
        else:
            _run_pool(jobs, workers, finish)

    return _finish_index(root, [records[r] for r in relatives])


def _run_pool(jobs: list[tuple], workers: int, finish) -> None:
    # spawn, not fork: a forked copy of a process holding torch's thread pool can hang.
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                               initargs=(os.getpid(),))
    futures = [pool.submit(prepare_video, *job) for job in jobs]
    try:
        for future in as_completed(futures):
            finish(future.result())
    except BaseException as exc:
        # Ctrl-C or an error: stop at once, dropping queued videos and stopping the running ones
        # (no clip is ever half-written, and without a record the next run does them again).
        processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() forgets them
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        if isinstance(exc, BrokenProcessPool):
            raise UserError(
                "a worker process died (out of memory, killed, or a crash in a decoder). "
                "From a Python script, keep all top-level code under `if __name__ == \"__main__\":` (worker "
                "processes re-import the script), or use workers=1. Finished videos are kept: run again to "
                "resume") from exc
        raise
    pool.shutdown(wait=True)


def _finish_index(root: Path, records: list[dict]) -> dict:
    clips = [ClipInfo(name=r["source"], file=r["file"], identity=r["identity"], source=r["source"],
                      frames=r["frames_with_face"]) for r in records if r["status"] == "ok"]
    failed = [{"source": r["source"], "reason": r.get("reason", r["status"])} for r in records if r["status"] != "ok"]
    return write_index(root, clips, failed, sum(r["frames"] for r in records))
