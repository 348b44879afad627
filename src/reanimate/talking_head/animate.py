"""Drive a few-shot avatar with the landmarks of a video (Zakharov et al., Sec. 3.3 and Fig. 1).

The driver's face is tracked and cropped like the training data; frames where its face is lost hold
the last pose. By default the driver's face *shape* is replaced by the source person's while its pose
and expression are kept: a different person's landmarks would otherwise reshape the face.
"""


import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.progress import progress, say
from reanimate.faces.align import stable_crops
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.raster import draw_landmarks
from reanimate.io.video import FrameWriter, Video, check_output_free, open_video
from reanimate.talking_head.fewshot import MARGIN, Avatar, landmark_images, load_shots
from reanimate.talking_head.model import TalkingHeadModel


def driver_track(video: Video, size: int, detector: LandmarkDetector, show_progress: bool = True):
    """(crops, points (N, 68, 2) in crop pixels, frames without a face) of a driving video."""
    track = detector.track((f for _, f in video.frames()), total=len(video), show_progress=show_progress)
    if not track.found.any():
        raise UserError(f"no face found in any frame of the driving video {video.path}")
    boxes = stable_crops(track.points, track.found, size, MARGIN)
    crops, points, last = [], [], None
    for index, frame in video.frames():
        if track.found[index]:
            last = index
        use = last if last is not None else int(np.flatnonzero(track.found)[0])  # before the first face: the first
        crops.append(boxes[use].warp(frame))
        points.append(boxes[use].apply(track.points[use]))
    return crops, np.stack(points), int((~track.found).sum())


def _similarity(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Scale, rotation (2, 2) and shift with target ≈ scale * source @ R.T + shift (Umeyama 1991)."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    s, t = source - mu_s, target - mu_t
    u, sigma, vt = np.linalg.svd(t.T @ s)
    d = np.sign(np.linalg.det(u @ vt))
    rotation = u @ np.diag([1, d]) @ vt
    scale = (sigma * [1, d]).sum() / (s ** 2).sum()
    return scale, rotation, mu_t - scale * mu_s @ rotation.T


def adapt_shape(driver: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Driver landmarks (N, 68, 2) re-drawn with the source's face shape (mean over (T, 68, 2)).

    Each driver frame = its pose (a similarity transform of the driver's mean face) applied to the
    source's mean face plus the frame's expression (its deviation from the driver's mean face).
    """
    driver_mean, source_mean = driver.mean(0), source.mean(0)
    scale, rotation, shift = _similarity(source_mean, driver_mean)
    source_in_driver = scale * source_mean @ rotation.T + shift  # the source face, placed like the driver's
    out = np.empty_like(driver)
    for i, frame in enumerate(driver):
        s, r, t = _similarity(driver_mean, frame)  # this frame's pose
        expression = (frame - t) @ r / s - driver_mean  # undo the pose: what moved in the face
        out[i] = s * (source_in_driver + expression) @ r.T + t
    return out.astype(np.float32)


def animate(model_dir, sources, driver, out, *, shots: int = 8, finetune_steps: int = 0,
            finetune_seconds: float | None = None, adapt: bool = True, side_by_side: bool = False,
            device: str = "auto", save_person=None, overwrite: bool = False, show_progress: bool = True) -> dict:
    """See `reanimate.api.animate`."""
    from reanimate.core.device import resolve_device

    check_output_free(out, overwrite)
    if save_person is not None:
        check_output_free(save_person, overwrite)
    device = resolve_device(device)
    model = model_dir if isinstance(model_dir, TalkingHeadModel) else TalkingHeadModel.from_pretrained(model_dir, device)
    size = model.config.image_size
    detector = LandmarkDetector()
    frames, points = load_shots(sources, size, shots, detector)
    avatar = Avatar(model, frames, points, device)
    if finetune_steps or finetune_seconds:
        avatar.finetune(finetune_steps, finetune_seconds, show_progress=show_progress)
    if save_person is not None:
        avatar.save_pretrained(save_person, overwrite=overwrite)
    video = driver if isinstance(driver, Video) else open_video(driver)
    crops, driving, missing = driver_track(video, size, detector, show_progress)
    if missing:
        say(f"the driver's face was not found in {missing} of {len(video)} frames: the last pose is held there",
            show_progress)
    if adapt:
        driving = adapt_shape(driving, points)
    bar = progress(len(driving), "animating", "frame", enabled=show_progress)
    with FrameWriter(out, video.fps, overwrite=overwrite) as writer, bar:
        for start in range(0, len(driving), 16):  # landmark images per chunk: memory stays flat
            for offset, face in enumerate(avatar.render(landmark_images(driving[start:start + 16], size))):
                index = start + offset
                if side_by_side:
                    face = np.concatenate([crops[index], draw_landmarks(driving[index], (size, size)), face], axis=1)
                writer.write(face, video.frame_name(index))
                bar.update()
    return {"out": str(out), "frames": len(driving), "driver_frames_without_face": missing, "shots": shots,
            "finetune_steps": avatar.finetuned_steps, "avatar": avatar, "driver_crops": crops,
            "driver_points": driving}
