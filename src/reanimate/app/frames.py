"""Frames and paintings at the studio's working size: a video decoded into a session's folder, and
images from the page (any dtype, RGBA, any size of the frame's shape) made RGB frames of that size."""

import dataclasses
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.progress import progress
from reanimate.io.video import VIDEO_EXTENSIONS, Video, VideoTooLong, open_video


def working_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The frame size the studio works at: the video's, shrunk so its longer side is at most max_side."""
    scale = min(1.0, max_side / max(width, height))
    return max(16, round(width * scale)), max(16, round(height * scale))


def decode_frames(path: Path, folder: Path, max_side: int, max_frames: int,
                  show_progress: bool) -> tuple[Video, Path, str]:
    """The video at `path` as PNG frames at the working size, in a new folder inside `folder`.

    Returns the frames as a video (with the clip's times, colour and sound, for the export), their
    folder, and a summary line. Refused or broken files raise UserError and leave nothing behind.
    """
    if path.suffix.lower() not in VIDEO_EXTENSIONS:
        raise UserError(f"{path.name} is not a video file: use one of {', '.join(VIDEO_EXTENSIONS)}")
    try:  # clear errors for missing, empty or corrupt files; a long clip is refused without decoding it all
        source = open_video(path, max_frames=max_frames)
    except VideoTooLong as exc:
        raise UserError(f"{exc}; the studio takes at most {max_frames}: cut the clip, or stylize it whole "
                        "with `reanimate stylize`") from exc
    size = working_size(source.width, source.height, max_side)
    # A folder of its own: a training still running on the old video reads the old frames.
    frames = Path(tempfile.mkdtemp(prefix="frames-", dir=folder))
    try:
        with progress(len(source), "decode", "frame", enabled=show_progress) as bar:
            for index, frame in source.frames():
                if (frame.shape[1], frame.shape[0]) != size:
                    frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
                if not cv2.imwrite(str(frames / f"{index:05d}.png"), frame[:, :, ::-1].copy()):
                    raise UserError(f"could not write frame {index} into {frames}: is the disk full?")
                bar.update(1)
        video = dataclasses.replace(open_video(frames, fps=source.fps), rate=source.rate, times=source.times,
                                    colour=source.colour, audio=source.audio, sound=source.sound)
    except BaseException:
        shutil.rmtree(frames, ignore_errors=True)
        raise
    scaled = "" if size == source.size else f" (from {source.width}x{source.height})"
    return video, frames, f"{path.name}: {len(source)} frames of {size[0]}x{size[1]}{scaled} at {source.fps:.3g} fps"


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An image from the page (RGB or RGBA order, any dtype) as RGB uint8; transparency shows black."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] in (2, 4):
        alpha = image[:, :, -1:].astype(np.float32) / 255.0
        image = (image[:, :, :-1].astype(np.float32) * alpha + 0.5).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[:, :, :3])


def fit_painting(image: np.ndarray, size: tuple[int, int], what: str) -> np.ndarray:
    """A painted keyframe or mask at the working size; it must have the frame's aspect ratio."""
    height, width = image.shape[:2]
    if abs(width / height - size[0] / size[1]) > 0.02 * size[0] / size[1]:
        raise UserError(f"the {what} is {width}x{height}, but frames are {size[0]}x{size[1]}: "
                        "paint on a frame of this video (the aspect ratio must match)")
    if (width, height) == size:
        return image
    interpolation = cv2.INTER_AREA if width > size[0] else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation)


def fit_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray | None:
    """A painted mask (non-zero where the style is learned) as a boolean mask at the working size;
    None for an empty one, which means "no mask", not "learn nothing"."""
    mask = fit_painting((np.asarray(mask) > 0).astype(np.uint8) * 255, size, "mask") > 127
    if mask.ndim == 3:
        mask = mask.any(axis=2)
    return mask if mask.any() else None


def shrink(frame: np.ndarray, max_side: int) -> np.ndarray:
    """An image from the page (a camera frame) as RGB, its longer side at most `max_side`."""
    frame = as_rgb(frame)
    height, width = frame.shape[:2]
    if max(width, height) > max_side:
        frame = cv2.resize(frame, working_size(width, height, max_side), interpolation=cv2.INTER_AREA)
    return frame
