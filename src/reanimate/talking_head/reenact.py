"""Self-reenactment on a real video: how well each way of drawing a face reproduces held-out frames.

Shots come from the first half of the clip; the second half's landmarks drive the person, so every
result has the real frame to compare with (Zakharov et al. evaluate this way, Sec. 4). Compared:
copying a shot (the first, and the one nearest in pose and expression), the training-free warp, and,
with a model, the generator feed-forward (FF) and fine-tuned (FT). Scores on the face crop: SSIM,
PSNR, CSIM (dlib descriptor) and the landmark error of the result (landmarks found again on it, over
the inter-ocular distance: does the face follow the driver?).

The warp is scored without the driver's pixels: an opening mouth is filled from the widest-open
shot, as the real frame's own mouth would make the score meaningless.
"""

import os
from pathlib import Path

import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.files import write_json
from reanimate.core.progress import progress, say
from reanimate.faces.align import stable_crops
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.shots import MARGIN, Shot, crop_shots
from reanimate.faces.warp import nearest_shot
from reanimate.io.image import contact_sheet, write_png
from reanimate.io.video import Video, open_video
from reanimate.metrics.identity import FaceDescriptor, cosine
from reanimate.metrics.image import psnr, ssim
from reanimate.talking_head.warp_avatar import WarpAvatar

SHEET_ROWS = 5


def landmark_error(detector: LandmarkDetector, image: np.ndarray, truth: np.ndarray) -> float:
    """Mean distance of the landmarks found on `image` to `truth` (68, 2), over the inter-ocular
    distance; NaN where no face is found."""
    gray = image.mean(axis=2).astype(np.uint8)
    boxes = detector.find_faces(gray)
    if not boxes:
        return float("nan")
    found = detector.landmarks(gray, boxes[0])
    eyes = np.linalg.norm(truth[36:42].mean(0) - truth[42:48].mean(0))
    return float(np.linalg.norm(found - truth, axis=1).mean() / max(eyes, 1e-6))


def reenact(video: str | os.PathLike | Video, *, shots: int = 8, size: int = 256, model=None,
            finetune_steps: int = 40, out: str | os.PathLike | None = None, device: str = "auto",
            show_progress: bool = True, finetune_seconds: float | None = None) -> dict:
    """Score copy / warp (/ FF / FT with a model) on the second half of `video`, driven by its own landmarks.

    Args:
        video: a real clip of one talking person (at least 2 x `shots` frames with a face).
        shots: T, frames of the first half the person is made from.
        size: side of the face crops compared (a model works at its own size, scaled to this).
        model: a `TalkingHeadModel` or model folder, for the generator rows.
        finetune_steps / finetune_seconds: the FT row's budget (both: whichever ends first).
        out: folder for `reenact.json` and `reenact-sheet.png` (truth | copy | warp | generator).

    Returns:
        {"video", "shots", "frames", "rows": [{"method", "ssim", "psnr", "csim", "landmark_error", "found"}]}
    """
    import cv2

    if shots < 1:
        raise UserError(f"`shots` {shots} must be at least 1")
    video = video if isinstance(video, Video) else open_video(video)
    frames = [f for _, f in video.frames()]
    detector = LandmarkDetector()
    track = detector.track(frames, show_progress=show_progress)
    half = len(frames) // 2
    first = np.flatnonzero(track.found[:half])
    driven = [i for i in range(half, len(frames)) if track.found[i]]
    if len(first) < shots or len(driven) < 2:
        raise UserError(f"{video.path}: a face is found in {len(first)} frames of the first half and {len(driven)} "
                        f"of the second; self-reenactment needs {shots} and 2: use a longer clip or fewer `shots`")
    picks = first[np.unique(np.linspace(0, len(first) - 1, shots).round().astype(int))]
    people = [Shot(frames[i], track.points[i], f"frame {i}") for i in picks]
    _, shot_images, shot_points = crop_shots(people, size)
    boxes = stable_crops(track.points, track.found, size, MARGIN)
    truths = [(boxes[i].warp(frames[i]), boxes[i].apply(track.points[i])) for i in driven]

    def nearest(points):
        k, _ = nearest_shot(shot_points, points)
        return shot_images[k], shot_points[k]

    # Each method: target landmarks -> (face crop, where its face's landmarks are).
    warp = WarpAvatar(shot_images, shot_points)
    methods = {"copy (first shot)": lambda p: (shot_images[0], shot_points[0]), "copy (nearest shot)": nearest,
               "warp": lambda p: (warp.render(p), p)}
    if model is not None:
        methods |= _generator_methods(model, shot_images, shot_points, size, finetune_steps, finetune_seconds, device,
                                      show_progress)
    shown = [name for name in methods if name != "copy (nearest shot)"]

    describe = FaceDescriptor()
    scores = {name: [] for name in methods}
    sheet_at = set(np.linspace(0, len(truths) - 1, SHEET_ROWS).round().astype(int).tolist())
    rows, sheet = [], []
    with progress(len(truths), "reenacting", "frame", enabled=show_progress) as bar:
        for k, (truth, points) in enumerate(truths):
            d_truth, pictures = describe(truth, points), {}
            for name, draw in methods.items():
                fake, fake_points = draw(points)
                if fake.shape[0] != size:
                    fake = cv2.resize(fake, (size, size), interpolation=cv2.INTER_LINEAR)
                scores[name].append((ssim(fake, truth), psnr(fake, truth), cosine(describe(fake, fake_points), d_truth),
                                     landmark_error(detector, fake, points)))
                pictures[name] = fake
            if k in sheet_at:
                sheet.append([truth] + [pictures[name] for name in shown])
            bar.update()
    for name, values in scores.items():
        values = np.array(values, np.float64)
        found = ~np.isnan(values[:, 3])
        rows.append({"method": name, "ssim": float(values[:, 0].mean()), "psnr": float(values[:, 1].mean()),
                     "csim": float(values[:, 2].mean()),
                     "landmark_error": float(values[found, 3].mean()) if found.any() else float("nan"),
                     "found": float(found.mean())})
    result = {"video": str(video.path), "shots": len(people), "frames": len(truths), "crop_size": size,
              "csim_network": "dlib ResNet face descriptor (128-d)", "rows": rows}
    if out is not None:
        out = Path(out)
        write_json(out / "reenact.json", result)
        labels = ["truth | " + " | ".join(shown)] + [""] * (len(sheet) - 1)
        write_png(out / "reenact-sheet.png", contact_sheet(sheet, labels))
        say(f"wrote {out / 'reenact.json'} and {out / 'reenact-sheet.png'}", show_progress)
    return result


def _generator_methods(model, shot_images, shot_points, size, finetune_steps, finetune_seconds, device,
                       show_progress) -> dict:
    """FF and FT avatars of the model, drawing at the model's size from landmarks scaled to it (a
    guided model adds its correction to the warp at the compared size)."""
    from reanimate.core.device import resolve_device
    from reanimate.faces.align import resize_crop
    from reanimate.talking_head.fewshot import Avatar
    from reanimate.talking_head.model import TalkingHeadModel

    device = resolve_device(device)
    model = model if isinstance(model, TalkingHeadModel) else TalkingHeadModel.from_pretrained(model, device)
    own = model.config.image_size
    small = [resize_crop(f, p, own) for f, p in zip(shot_images, shot_points)]
    frames, points = [f for f, _ in small], np.stack([p for _, p in small])
    scale = own / size
    methods = {}
    for name, steps in (("generator FF", 0), ("generator FT", finetune_steps)):
        if name == "generator FT" and not (steps or finetune_seconds):
            continue
        # A guided model adds its correction to warps of the shots at the compared size.
        avatar = Avatar(model, frames, points, device, detail=(shot_images, shot_points))
        if name == "generator FT":
            avatar.finetune(steps, finetune_seconds, show_progress=show_progress)
        methods[name] = _drawer(avatar, own, scale)
    return methods


def _drawer(avatar, own: int, scale: float):
    """target landmarks at the compared size -> (the avatar's face at its own size, or at the compared
    size for a guided model, the landmarks)."""
    from reanimate.talking_head.fewshot import landmark_images

    def draw(points: np.ndarray):
        small = (points + 0.5) * scale - 0.5  # pixel centres kept aligned, as `resize_crop` does
        return avatar.render(landmark_images(small[None], own), points[None])[0], points
    return draw


def format_reenact_table(result: dict) -> str:
    lines = [f"{'method':22s} {'SSIM':>6s} {'PSNR':>6s} {'CSIM':>6s} {'lmk err':>8s} {'found':>6s}"]
    for row in result["rows"]:
        lines.append(f"{row['method']:22s} {row['ssim']:6.3f} {row['psnr']:6.2f} {row['csim']:6.3f} "
                     f"{row['landmark_error']:8.3f} {row['found']:6.2f}")
    lines.append(f"self-reenactment of {result['video']}: {result['shots']} shots from the first half, "
                 f"{result['frames']} driven frames of the second half at {result['crop_size']} px; CSIM from the "
                 f"{result['csim_network']}; lmk err = landmarks found on the result vs the driver's, over the "
                 "inter-ocular distance; found = share of results where a face was found")
    return "\n".join(lines)
