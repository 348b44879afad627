"""Real faces, no model: self- and cross-reenactment of real clips and portraits with `animate`.

    .venv/bin/python benchmarks/talk_real.py CLIPS_DIR PORTRAITS_DIR [--out talk-real-out] [--frames 100]
        [--drivers 3] [--motion M] [--limit N] [--speed] [--keep-videos]

- self-reenactment, per clip of CLIPS_DIR (*.mp4): its first --frames frames drive its frame 0 (the photo);
  the result (always pasted back, so at the photo's size) is compared with true frames 1.. on a face
  box around the true landmarks (256 px): SSIM and PSNR of the result and of copying the photo, landmark
  error (landmarks found again on the result vs the truth's, over the inter-ocular distance), and the
  std ratio result / truth of the mouth and eye openings over the frames (1 = as lively as the truth);
- cross-reenactment: every portrait of PORTRAITS_DIR (jpg/png) x the first --drivers clips: identity
  kept (share of result frames whose dlib descriptor is within 0.6 of the portrait's), Pearson r of
  result vs driver for mouth and eye opening, head roll and yaw, and their std ratios. Frames without
  a face on either side are left out (counted). Copying the photo keeps identity and scores r = 0;
- --speed: frames/s of one `animate` call (a portrait cropped and resized to 512x512, driven by the
  first clip's first 100 frames, driver landmarks included), with seconds per step of the pipeline.

Writes a contact sheet per clip / pair (rows: driver face | result face at 6 frames) and results.json
in --out; prints the tables and a summary. Photos or clips where no face is found are reported, skipped.
"""

import argparse
import contextlib
import functools
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

import reanimate
import reanimate.api as ra
from reanimate.core.files import write_json
from reanimate.faces.align import Crop, face_box, fixed_crop
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.shots import find_shots
from reanimate.io.image import IMAGE_EXTENSIONS, contact_sheet, fit_side, read_image, write_png
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.metrics.identity import FaceDescriptor, distance
from reanimate.metrics.image import psnr, ssim
from reanimate.talking_head.reenact import landmark_error

BOX, SHEET, SHEET_ROWS, SAME_PERSON, MAX_SIDE = 256, 160, 6, 0.6, 1024
MEASURES = ("mouth", "eye", "roll", "yaw")


# -- measures on (N, 68, 2) landmarks (NaN where no face) -------------------------------------------------
def inter_ocular(points: np.ndarray) -> np.ndarray:
    return np.linalg.norm(points[..., 36:42, :].mean(-2) - points[..., 42:48, :].mean(-2), axis=-1)


def measures(points: np.ndarray) -> dict[str, np.ndarray]:
    """Per frame: mouth and eye opening over the inter-ocular distance, roll (degrees), yaw (nose off
    the jaw's middle, over the jaw's width)."""
    def gap(a, b):
        return np.linalg.norm(points[:, a] - points[:, b], axis=-1)
    iod = inter_ocular(points)
    eyes = points[:, 42:48].mean(1) - points[:, 36:42].mean(1)
    jaw = points[:, 16, 0] - points[:, 0, 0]
    return {"mouth": gap([61, 62, 63], [67, 66, 65]).mean(1) / iod,
            "eye": (gap([37, 38, 43, 44], [41, 40, 47, 46])).mean(1) / iod,
            "roll": np.degrees(np.arctan2(eyes[:, 1], eyes[:, 0])),
            "yaw": (points[:, 30, 0] - (points[:, 0, 0] + points[:, 16, 0]) / 2) / jaw}


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or a[ok].std() < 1e-9 or b[ok].std() < 1e-9:
        return 0.0  # a constant (a copied photo) follows nothing
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def std_ratio(result: np.ndarray, truth: np.ndarray) -> float:
    ok = np.isfinite(result) & np.isfinite(truth)
    return float(result[ok].std() / truth[ok].std()) if ok.sum() >= 2 and truth[ok].std() > 0 else float("nan")


# -- running animate ----------------------------------------------------------------------------------------
def first_frames(path: Path, count: int) -> tuple[list[np.ndarray], float, int]:
    video = open_video(path)
    return [f for _, f in video.frames(range(min(count, len(video))))], video.fps, len(video)


def driver_file(path: Path, frames: list[np.ndarray], fps: float, length: int, tmp: Path) -> Path:
    """The clip itself, or its first frames written to a temporary mp4 when it is longer."""
    if length <= len(frames):
        return path
    with FrameWriter(tmp / f"{path.stem}-first{len(frames)}.mp4", fps, overwrite=True) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.out


def run_animate(photo: Path, driver: Path, out: Path, motion: str | None,
                max_side: int | None = None) -> tuple[list[np.ndarray], dict]:
    """The result frames (scaled to at most `max_side`: a 3500 px portrait would not fit in memory) and
    animate's summary. Pasted back always: by default a face filling the photo is written as its crop,
    which no longer lines up with the photo (or, in self-reenactment, with the true frames)."""
    options = {} if motion is None else {"motion": motion}
    info = ra.animate(None, [photo], driver, out, paste_back=True, show_progress=False, overwrite=True, **options)
    return [f if max_side is None else fit_side(f, max_side) for _, f in open_video(out).frames()], info


def track(detector: LandmarkDetector, frames: list[np.ndarray]):
    """Raw per-frame landmarks (no smoothing), NaN where no face: each side is measured as found."""
    return detector.track(frames, smooth=0).points


def sheet(rows: list[list[np.ndarray]], title: str, picks: list[int]) -> np.ndarray:
    head = f"frame {picks[0]}: driver | result"
    return contact_sheet(rows, [f"{title[:44 - len(head)]} {head}"] + [f"frame {k}" for k in picks[1:]])


def picks_of(count: int, first: int = 0) -> list[int]:
    return np.unique(np.linspace(first, count - 1, SHEET_ROWS).round().astype(int)).tolist()


# -- self-reenactment ---------------------------------------------------------------------------------------
def self_clip(clip: Path, args, detector, tmp: Path) -> dict:
    """Frame 0 driven by the clip's first frames, scored on a box around each true frame's face."""
    frames, fps, length = first_frames(clip, args.frames)
    photo = tmp / f"{clip.stem}-frame0.png"
    write_png(photo, frames[0])
    driver = driver_file(clip, frames, fps, length, tmp)
    out = (args.out / "videos" if args.keep_videos else tmp) / f"self-{clip.stem}.mp4"
    results, info = run_animate(photo, driver, out, args.motion)
    truth, found = track(detector, frames), track(detector, results)
    rows, picks, scores = [], picks_of(len(frames), 1), []
    for k in range(1, min(len(frames), len(results))):  # frame 0 is the photo itself
        if not np.isfinite(truth[k]).all():
            continue
        crop = Crop(*face_box(truth[k], 0.4), BOX)
        fake, real, copy = crop.warp(results[k]), crop.warp(frames[k]), crop.warp(frames[0])
        copy_err = np.linalg.norm(truth[0] - truth[k], axis=1).mean() / inter_ocular(truth[k])
        scores.append((ssim(fake, real), psnr(fake, real), ssim(copy, real), psnr(copy, real),
                       landmark_error(detector, fake, crop.apply(truth[k])), copy_err))
        if k in picks:
            small = Crop(crop.cx, crop.cy, crop.side, SHEET)
            rows.append([small.warp(frames[k]), small.warp(results[k])])
    if not scores:
        raise ValueError(f"no face found in any of the first {len(frames)} frames")
    shown = [k for k in picks if np.isfinite(truth[k]).all()]
    write_png(args.out / f"self-{clip.stem}.png", sheet(rows, clip.stem, shown))
    s = np.array(scores, np.float64)
    got, want = measures(found), measures(truth)
    return {"clip": clip.name, "frames": len(frames), "truth_faces": len(s),
            "result_faces": int(np.isfinite(s[:, 4]).sum()),
            "ssim": s[:, 0].mean(), "psnr": s[:, 1].mean(), "ssim_copy": s[:, 2].mean(), "psnr_copy": s[:, 3].mean(),
            "landmark_error": np.nanmean(s[:, 4]), "landmark_error_copy": s[:, 5].mean(),
            "mouth_std_ratio": std_ratio(got["mouth"], want["mouth"]),
            "eye_std_ratio": std_ratio(got["eye"], want["eye"]),
            "r_mouth": pearson(got["mouth"], want["mouth"]), "r_eye": pearson(got["eye"], want["eye"]),
            "animate": info}


# -- cross-reenactment --------------------------------------------------------------------------------------
def cross_pair(portrait: Path, person, driver: dict, args, detector, describe, tmp: Path) -> dict:
    name = f"{portrait.stem}-{driver['clip'].stem}"
    out = (args.out / "videos" if args.keep_videos else tmp) / f"cross-{name}.mp4"
    results, info = run_animate(portrait, driver["file"], out, args.motion, MAX_SIDE)
    points, scale = track(detector, results), results[0].shape[1] / info["output_size"][0]
    count = min(len(results), len(driver["points"]))
    got, want = measures(points[:count]), measures(driver["points"][:count])
    both = np.isfinite(points[:count]).all((1, 2)) & np.isfinite(driver["points"][:count]).all((1, 2))
    kept = [distance(describe(results[k], points[k]), person["desc"]) < SAME_PERSON
            for k in range(count) if np.isfinite(points[k]).all()]
    picks = picks_of(count)
    box = Crop(*face_box((person["points"] + 0.5) * scale - 0.5, 0.4), SHEET)
    rows = [[driver["box"].warp(driver["frames"][k]), box.warp(results[k])] for k in picks]
    write_png(args.out / f"cross-{name}.png", sheet(rows, name, picks))
    row = {"portrait": portrait.name, "driver": driver["clip"].name, "frames": count,
           "left_out": int(count - both.sum()), "result_faces": len(kept),
           "identity_kept": float(np.mean(kept)) if kept else float("nan"), "animate": info}
    for key in MEASURES:
        row[f"r_{key}"] = pearson(np.where(both, got[key], np.nan), want[key])
        row[f"std_ratio_{key}"] = std_ratio(np.where(both, got[key], np.nan), want[key])
    return row


def load_driver(clip: Path, args, detector, tmp: Path) -> dict:
    frames, fps, length = first_frames(clip, args.frames)
    found = detector.track(frames, smooth=0)
    if not found.found.any():
        raise ValueError(f"no face in the first {len(frames)} frames")
    return {"clip": clip, "frames": frames, "points": found.points, "file": driver_file(clip, frames, fps, length, tmp),
            "box": fixed_crop(found.points, found.found, SHEET, 0.4)}


# -- speed --------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def phase_timer():
    """Seconds spent in the animate pipeline's steps (each inclusive of what it calls), where they exist."""
    import reanimate.talking_head.animate as pipeline
    totals, undo = {}, []
    spots = [(pipeline, n) for n in ("find_shots", "crop_shots", "driver_track", "drive", "paste_face")]
    spots += [(getattr(pipeline, cls, None), "render") for cls in ("Portrait", "WarpAvatar")]
    spots += [(getattr(pipeline, "FrameWriter", None), "write")]
    for owner, name in spots:
        fn = getattr(owner, name, None)
        if owner is None or not callable(fn):
            continue
        label = name if owner is pipeline else f"{owner.__name__}.{name}"

        def wrapped(*a, _fn=fn, _label=label, **k):
            start = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                totals[_label] = totals.get(_label, 0.0) + time.perf_counter() - start
        undo.append((owner, name, owner.__dict__.get(name)))
        setattr(owner, name, functools.wraps(fn)(wrapped))
    try:
        yield totals
    finally:
        for owner, name, own in undo:
            setattr(owner, name, own) if own is not None else delattr(owner, name)


def speed(portrait: Path, clip: Path, args, detector, tmp: Path) -> dict:
    image = read_image(portrait)
    side = min(image.shape[:2])
    y, x = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    photo = tmp / "speed-512.png"
    write_png(photo, cv2.resize(image[y:y + side, x:x + side], (512, 512), interpolation=cv2.INTER_AREA))
    frames, fps, length = first_frames(clip, 100)
    driver = driver_file(clip, frames, fps, length, tmp)
    options = {} if args.motion is None else {"motion": args.motion}
    with phase_timer() as phases:
        start = time.perf_counter()
        info = ra.animate(None, [photo], driver, tmp / "speed.mp4", show_progress=False, overwrite=True, **options)
        took = time.perf_counter() - start
    result = {"photo": f"{portrait.name} (centre square at 512x512)", "driver": clip.name, "frames": info["frames"],
              "seconds": took, "frames_per_s": info["frames"] / took, "phases_s": phases}
    print(f"\nspeed: {info['frames']} frames of 512x512 (crop {info.get('crop_size')}) in {took:.1f} s = "
          f"{result['frames_per_s']:.1f} frames/s, driver landmarks included")
    print("  by step (inclusive): " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    return result


# -- tables -------------------------------------------------------------------------------------------------
def f(value, digits=3) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def print_tables(selfs: list[dict], crosses: list[dict]) -> dict:
    if selfs:
        print("\n| clip | SSIM result / copy | PSNR result / copy | lmk err result / copy | mouth std ratio "
              "| eye std ratio | faces truth / result |")
        print("|---|---|---|---|---|---|---|")
        for r in selfs:
            print(f"| {r['clip']} | {f(r['ssim'])} / {f(r['ssim_copy'])} | {f(r['psnr'], 2)} / {f(r['psnr_copy'], 2)} "
                  f"| {f(r['landmark_error'])} / {f(r['landmark_error_copy'])} | {f(r['mouth_std_ratio'], 2)} | "
                  f"{f(r['eye_std_ratio'], 2)} | {r['truth_faces']} / {r['result_faces']} |")
        print("| *copy the photo (baseline)* | the '/ copy' figures | | | 0 | 0 | |")
    if crosses:
        print("\n| portrait | driver | identity kept | r mouth | r eye | r roll | r yaw | std ratio mouth "
              "| std ratio eye | std ratio roll | std ratio yaw | left out |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in crosses:
            print(f"| {r['portrait']} | {r['driver']} | {f(100 * r['identity_kept'], 0)}% | "
                  + " | ".join(f(r[f"r_{m}"], 2) for m in MEASURES) + " | "
                  + " | ".join(f(r[f"std_ratio_{m}"], 2) for m in MEASURES) + f" | {r['left_out']} |")
        print("| *copy the photo* | any | 100% | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |")
    summary = {}
    if selfs:
        col = {k: np.array([r[k] for r in selfs], np.float64) for k in selfs[0] if k not in ("clip", "animate")}
        summary |= {"self_clips": len(selfs), "self_ssim_mean": np.nanmean(col["ssim"]),
                    "self_ssim_copy_mean": np.nanmean(col["ssim_copy"]),
                    "self_clips_ssim_at_least_copy": int((col["ssim"] >= col["ssim_copy"]).sum()),
                    "self_landmark_error_median": np.nanmedian(col["landmark_error"]),
                    "self_landmark_error_copy_median": np.nanmedian(col["landmark_error_copy"]),
                    "self_mouth_std_ratio_median": np.nanmedian(col["mouth_std_ratio"]),
                    "self_eye_std_ratio_median": np.nanmedian(col["eye_std_ratio"])}
        print(f"\nself ({len(selfs)} clips): SSIM {summary['self_ssim_mean']:.3f} vs copy "
              f"{summary['self_ssim_copy_mean']:.3f} (result >= copy in {summary['self_clips_ssim_at_least_copy']}"
              f"/{len(selfs)}), median lmk err {summary['self_landmark_error_median']:.3f} (copy "
              f"{summary['self_landmark_error_copy_median']:.3f}), median std ratio mouth "
              f"{summary['self_mouth_std_ratio_median']:.2f} eye {summary['self_eye_std_ratio_median']:.2f}")
    if crosses:
        col = {k: np.array([r[k] for r in crosses], np.float64) for k in crosses[0]
               if k.startswith(("r_", "std_ratio_", "identity", "left", "result_faces", "frames"))}
        summary |= {"cross_pairs": len(crosses), "cross_identity_kept_mean": np.nanmean(col["identity_kept"]),
                    **{f"cross_r_{m}_mean": np.nanmean(col[f"r_{m}"]) for m in MEASURES},
                    "cross_mouth_std_ratio_median": np.nanmedian(col["std_ratio_mouth"]),
                    "cross_eye_std_ratio_median": np.nanmedian(col["std_ratio_eye"]),
                    "cross_frames_left_out": int(col["left_out"].sum()), "cross_frames": int(col["frames"].sum())}
        print(f"cross ({len(crosses)} pairs): identity kept {100 * summary['cross_identity_kept_mean']:.0f}% "
              f"(copy 100%), mean r mouth {summary['cross_r_mouth_mean']:.2f} eye {summary['cross_r_eye_mean']:.2f} "
              f"roll {summary['cross_r_roll_mean']:.2f} yaw {summary['cross_r_yaw_mean']:.2f} (copy 0), "
              f"median std ratio mouth {summary['cross_mouth_std_ratio_median']:.2f} "
              f"eye {summary['cross_eye_std_ratio_median']:.2f}"
              f"; {summary['cross_frames_left_out']} of {summary['cross_frames']} frames left out (no face)")
    return {k: float(v) for k, v in summary.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", type=Path)
    parser.add_argument("portraits", type=Path)
    parser.add_argument("--out", type=Path, default=Path("talk-real-out"))
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--drivers", type=int, default=3)
    parser.add_argument("--motion", default=None, help="animate's motion mode (default: the library's)")
    parser.add_argument("--limit", type=int, default=None, help="at most N clips and N portraits")
    parser.add_argument("--speed", action="store_true", help="also time one 512x512 animate call")
    parser.add_argument("--keep-videos", action="store_true", help="keep the results in OUT/videos")
    args = parser.parse_args()
    print(f"reanimate from {reanimate.__file__}; motion {args.motion or 'library default'}")
    clips = sorted(args.clips.glob("*.mp4"))[:args.limit]
    portraits = sorted(p for p in args.portraits.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)[:args.limit]
    (args.out / "videos" if args.keep_videos else args.out).mkdir(parents=True, exist_ok=True)
    detector, describe = LandmarkDetector(), FaceDescriptor()
    selfs, crosses, failed, started = [], [], [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for clip in clips:
            try:
                selfs.append(self_clip(clip, args, detector, tmp))
            except Exception as exc:  # noqa: BLE001 - a bad clip is reported, the run goes on
                failed.append({"self": clip.name, "error": f"{type(exc).__name__}: {exc}"})
                print(f"self {clip.name}: skipped ({failed[-1]['error']})")
        drivers = []
        for clip in clips[:args.drivers]:
            try:
                drivers.append(load_driver(clip, args, detector, tmp))
            except Exception as exc:  # noqa: BLE001
                failed.append({"driver": clip.name, "error": f"{type(exc).__name__}: {exc}"})
                print(f"driver {clip.name}: skipped ({failed[-1]['error']})")
        for portrait in portraits:
            try:
                shot = find_shots([portrait], 1, detector, 0)[0]
                person = {"points": shot.points, "desc": describe(shot.frame, shot.points)}
            except Exception as exc:  # noqa: BLE001
                failed.append({"portrait": portrait.name, "error": f"{type(exc).__name__}: {exc}"})
                print(f"portrait {portrait.name}: skipped ({failed[-1]['error']})")
                continue
            for driver in drivers:
                try:
                    crosses.append(cross_pair(portrait, person, driver, args, detector, describe, tmp))
                except Exception as exc:  # noqa: BLE001
                    failed.append({"portrait": portrait.name, "driver": driver["clip"].name,
                                   "error": f"{type(exc).__name__}: {exc}"})
                    print(f"{portrait.name} x {driver['clip'].name}: skipped ({failed[-1]['error']})")
        summary = print_tables(selfs, crosses)
        timing = None
        if args.speed and clips and portraits:
            timing = speed(portraits[0], clips[0], args, detector, tmp)
    took = time.perf_counter() - started
    print(f"failed: {len(failed)}; run took {took / 60:.1f} min; sheets and results.json in {args.out}")
    write_json(args.out / "results.json", {
        "reanimate": reanimate.__file__, "frames": args.frames, "motion": args.motion or "library default",
        "summary": summary, "self": selfs, "cross": crosses, "failed": failed, "speed": timing, "seconds": took})


if __name__ == "__main__":
    main()
