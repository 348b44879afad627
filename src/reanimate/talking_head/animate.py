"""Animate a person with the face motion of a driving video, and put the face back into the full frame.

Two ways to draw the face, one pipeline around them:
- without a model, the shots themselves are warped to the driver's landmarks (`WarpAvatar`): a real
  face works today, from one photo, with no training;
- with a meta-learned model, the few-shot avatar of Zakharov et al. (Sec. 3.3, Fig. 1) generates it.
The driver's face is tracked and cropped like the training data; frames where its face is lost hold
the last pose. The motion mode (`reanimate.faces.motion`) decides whose face shape the landmarks
have. With paste-back, the animated crop goes back into the first shot's whole frame through the
inverse crop transform, blended with a feathered mask around the head (LivePortrait's stitching).
"""

import cv2
import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.progress import progress, say
from reanimate.faces.align import fixed_crop, resize_crop, stable_crops
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.motion import MOTION_MODES, drive
from reanimate.faces.paste import paste_face
from reanimate.faces.raster import draw_landmarks
from reanimate.faces.shots import MARGIN, Shot, crop_shots, find_shots
from reanimate.io.video import FrameWriter, Video, check_output_free, open_video
from reanimate.talking_head.fewshot import Avatar, landmark_images
from reanimate.talking_head.model import TalkingHeadModel
from reanimate.talking_head.warp_avatar import WarpAvatar

CHUNK = 16  # frames rendered at a time: memory stays flat on long drivers


def driver_track(video: Video, size: int, detector: LandmarkDetector, show_progress: bool = True,
                 steady: bool = False):
    """(crops, points (N, 68, 2) in crop pixels, frames without a face) of a driving video.

    By default the crops follow the face, smoothed over time, as the training data's do (what a
    generator expects); `steady` uses one crop for the whole video, so the landmarks keep the
    head's movement in the frame (what a warp of a still photo needs).
    """
    track = detector.track((f for _, f in video.frames()), total=len(video), show_progress=show_progress)
    if not track.found.any():
        raise UserError(f"no face found in any frame of the driving video {video.path}")
    boxes = ([fixed_crop(track.points, track.found, size, MARGIN)] * len(video) if steady
             else stable_crops(track.points, track.found, size, MARGIN))
    crops, points, last = [], [], None
    for index, frame in video.frames():
        if track.found[index]:
            last = index
        use = last if last is not None else int(np.flatnonzero(track.found)[0])  # before the first face: the first
        crops.append(boxes[index if steady else use].warp(frame))
        points.append(boxes[use].apply(track.points[use]))
    return crops, np.stack(points), int((~track.found).sum())


def warp_size(shot: Shot) -> int:
    """The crop side for warping: the face's own pixels (no detail lost when pasted back), 128-512."""
    side = shot.crop(1).side
    return int(np.clip(np.ceil(side / 16) * 16, 128, 512))


def animate(model_dir, sources, driver, out, *, shots: int | None = None, finetune_steps: int = 0,
            finetune_seconds: float | None = None, motion: str = "adapted", face: int | None = None,
            paste: bool | None = None, size: int | None = None, side_by_side: bool = False,
            device: str = "auto", save_person=None, overwrite: bool = False, show_progress: bool = True) -> dict:
    """See `reanimate.api.animate`."""
    from reanimate.core.device import resolve_device

    if motion not in MOTION_MODES:
        raise UserError(f"--motion {motion!r} must be one of {', '.join(MOTION_MODES)}")
    check_output_free(out, overwrite)
    if save_person is not None:
        if model_dir is None:
            raise UserError("--save-person keeps a fine-tuned network: it needs --model")
        check_output_free(save_person, overwrite)
    device = resolve_device(device)
    model = (model_dir if isinstance(model_dir, TalkingHeadModel) or model_dir is None
             else TalkingHeadModel.from_pretrained(model_dir, device))
    if model is None and (finetune_steps or finetune_seconds):
        raise UserError("fine-tuning needs a network: pass --model, or drop --finetune-steps/--finetune-seconds")
    if save_person is not None and model is not None and model.config.warp_guide:  # refused before the work
        raise UserError("--save-person keeps the network alone, and a guided model (warp_guide) also needs the "
                        "shots it warps: animate from the photos and --model instead")
    video = driver if isinstance(driver, Video) else open_video(driver)  # a broken driver fails before the work
    detector = LandmarkDetector()
    found = find_shots(sources, shots, detector, face)
    reference = found[0]  # its whole frame is the picture the face is pasted back into
    # The paper's generator draws at its own size; the warp and a guided generator (which adds its
    # correction to the warp) work at the face's own size.
    plain_model = model is not None and not model.config.warp_guide
    size = model.config.image_size if plain_model else (size or warp_size(reference))
    crops, shot_images, shot_points = crop_shots(found, size)
    if model is not None:
        own = model.config.image_size
        small = [resize_crop(f, p, own) for f, p in zip(shot_images, shot_points)]
        avatar = Avatar(model, [f for f, _ in small], np.stack([p for _, p in small]), device,
                        detail=(shot_images, shot_points))
        if finetune_steps or finetune_seconds:
            avatar.finetune(finetune_steps, finetune_seconds, show_progress=show_progress)
        if save_person is not None:
            avatar.save_pretrained(save_person, overwrite=overwrite)
    else:
        avatar = WarpAvatar(shot_images, shot_points)
    driver_crops, driver_points, missing = driver_track(video, size, detector, show_progress, steady=model is None)
    if missing:
        say(f"the driver's face was not found in {missing} of {len(video)} frames: the last pose is held there",
            show_progress)
    targets = drive(driver_points, shot_points, motion)
    height, width = reference.frame.shape[:2]
    paste = crops[0].side < 0.98 * max(width, height) if paste is None else paste
    picture = None
    bar = progress(len(targets), "animating", "frame", enabled=show_progress)
    with FrameWriter(out, video.fps, overwrite=overwrite) as writer, bar:
        for start in range(0, len(targets), CHUNK):
            chunk = range(start, min(start + CHUNK, len(targets)))
            if model is not None:  # the generator's colours are its own: matched to the photo's when pasted
                at = targets[chunk.start:chunk.stop]
                marks = landmark_images((at + 0.5) * (avatar.size / size) - 0.5, avatar.size)
                drawn = [(face, True) for face in avatar.render(marks, at)]
            else:  # a shot other than the photo pasted into may differ in light: matched too
                drawn = [(avatar.render(targets[i], driver_crops[i], driver_points[i]), avatar.current != 0)
                         for i in chunk]
            for index, (face, foreign) in zip(chunk, drawn):
                picture = face
                if paste:
                    picture = paste_face(reference.frame, face, crops[0], targets[index], shot_points[0],
                                         shot_images[0] if foreign else None)
                if side_by_side:
                    picture = _side_by_side(driver_crops[index], draw_landmarks(targets[index], (size, size)), picture)
                writer.write(picture, video.frame_name(index))
                bar.update()
    counters = avatar.warp if getattr(avatar, "warp", None) is not None else avatar  # a guided model's warp
    if getattr(counters, "clamped_frames", 0):
        say(f"in {counters.clamped_frames} frames the motion would have folded the face mesh (an extreme turn): "
            "it was pulled towards a rigid move there", show_progress)
    return {"out": str(out), "frames": len(targets), "driver_frames_without_face": missing, "shots": len(found),
            "path": "warp" if model is None else "generator", "motion": motion, "paste_back": bool(paste),
            "crop_size": size, "output_size": [picture.shape[1], picture.shape[0]],
            "finetune_steps": getattr(avatar, "finetuned_steps", 0),
            "clamped_frames": getattr(counters, "clamped_frames", 0), "mouth_frames": getattr(counters, "mouth_frames", 0)}


def _side_by_side(driver_crop: np.ndarray, marks: np.ndarray, picture: np.ndarray) -> np.ndarray:
    """driver | landmarks | result, the first two scaled to the result's height."""
    height = picture.shape[0]
    small = [cv2.resize(x, (height, height), interpolation=cv2.INTER_AREA if x.shape[0] > height else cv2.INTER_LINEAR)
             for x in (driver_crop, marks)]
    return np.concatenate(small + [picture], axis=1)
