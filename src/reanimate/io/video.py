"""Video and frame-folder I/O with PyAV.

A `Video` is either a video file (mp4/mov/mkv/webm/gif/...) or a folder of images sorted by
name. Frame indices are zero-based positions in the decoded video or the sorted folder. Frames are
read upright (a phone's rotation applied), 8-bit RGB whatever the source's depth or range; each
frame's time, the colour tags and the sound are kept for the output (`writer.FrameWriter`).
"""

import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import av
import numpy as np

from reanimate.core.errors import UserError, brief
from reanimate.io.formats import BT709, Colour
from reanimate.io.image import IMAGE_EXTENSIONS, read_image

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".gif", ".m4v")
DEFAULT_FOLDER_FPS = 25.0
FORMATS = {".m4v": "mp4"}  # containers FFmpeg does not guess from the extension


def _natural_key(name: str) -> list:
    # frame_2.png before frame_10.png, as people number their frames
    key = [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]
    return [key, name]  # "1.png" and "01.png" tie on numbers: the raw name decides


@dataclass
class Video:
    """A decoded-on-demand sequence of RGB uint8 frames (H, W, 3)."""

    path: Path
    num_frames: int
    width: int
    height: int
    fps: float
    files: list[Path] | None = field(default=None, repr=False)  # set for frame folders
    rate: Fraction | None = None  # the exact rate (30000/1001, not 29.97); None: `fps`
    times: tuple[float, ...] | None = field(default=None, repr=False)  # each frame's time (s); None: folders
    rotation: int = 0  # degrees counter-clockwise the file asks for (a phone's); frames come out turned
    colour: Colour = BT709  # as tagged (unspecified codes kept: the writer reads them as BT.709)
    audio: str | None = None  # the codec of its sound; None: silent
    sound: Path | None = None  # the file its sound is in: itself, or the video a folder was decoded from

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def exact_rate(self) -> Fraction:
        return self.rate or Fraction(self.fps).limit_denominator(1001)

    def __len__(self) -> int:
        return self.num_frames

    def frame_name(self, index: int) -> str:
        """File name for output frame `index`: the input's name for folders, else %05d.png."""
        if self.files is not None:
            return self.files[index].stem + ".png"
        return f"{index:05d}.png"

    def frames(self, indices: Iterable[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (index, frame) for the requested indices (all by default), in ascending order."""
        wanted = sorted(set(range(self.num_frames) if indices is None else indices))
        for index in wanted:
            if not 0 <= index < self.num_frames:
                raise UserError(f"frame {index} is out of range: {self.path} has frames 0..{self.num_frames - 1}")
        if not wanted:
            return
        if self.files is not None:
            for index in wanted:
                frame = read_image(self.files[index], "frame")
                self._check_size(frame, self.files[index])
                yield index, frame
            return
        targets = iter(wanted)
        target = next(targets)
        for position, frame in enumerate(_decode(self.path)):
            if position == target:
                yield position, frame
                target = next(targets, None)
                if target is None:
                    return

    def read(self, index: int) -> np.ndarray:
        return next(iter(self.frames([index])))[1]

    def read_many(self, indices: Iterable[int]) -> dict[int, np.ndarray]:
        return dict(self.frames(indices))

    def _check_size(self, frame: np.ndarray, source: Path) -> None:
        if frame.shape[:2] != (self.height, self.width):
            raise UserError(
                f"{source} is {frame.shape[1]}x{frame.shape[0]} but the first frame is "
                f"{self.width}x{self.height}: all frames of a folder must have one size"
            )


def upright(frame: np.ndarray, rotation: int) -> np.ndarray:
    """The frame turned as its file's display rotation (degrees counter-clockwise) asks."""
    return np.ascontiguousarray(np.rot90(frame, rotation // 90)) if rotation else frame


def _rotation(frame, path: Path) -> int:
    """The display rotation of a decoded frame, a multiple of 90; any other angle is refused."""
    degrees = int(round(frame.rotation or 0)) % 360
    if degrees % 90:
        raise UserError(f"{path} asks to be shown turned by {degrees} degrees: only quarter turns (90, 180, 270) "
                        "can be read; turn it with a video editor first")
    return degrees


def _decode(path: Path, convert: bool = True) -> Iterator:
    """Decode every frame of a video file as upright RGB uint8 (or PyAV frames); a damaged tail ends the
    stream early. The frame's own tags (BT.601/709 matrix, limited or full range, 10-bit) steer the
    conversion to RGB."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:  # damaged headers and metadata too
        raise UserError(f"{path} is not a readable video ({brief(exc)})") from exc
    with container:
        if not container.streams.video:
            raise UserError(f"{path} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                yield upright(frame.to_ndarray(format="rgb24"), _rotation(frame, path)) if convert else frame
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
            return  # truncated or damaged tail: keep the frames decoded so far


class VideoTooLong(UserError):
    """A video with more frames than the caller takes."""


def _too_long(path: Path, max_frames: int) -> VideoTooLong:
    return VideoTooLong(f"{path.name} has more than {max_frames} frames")


def _probe_file(path: Path, max_frames: int | None) -> Video:
    count, first, times = 0, None, []
    for frame in _decode(path, convert=False):
        count += 1
        first = first or frame
        times.append(float(frame.time) if frame.time is not None else float("nan"))
        if max_frames is not None and count > max_frames:
            raise _too_long(path, max_frames)  # before decoding all of a long file just to count it
    if count == 0:
        raise UserError(f"{path} has no decodable frames: the file is empty or corrupt")
    rotation = _rotation(first, path)
    width, height = (first.height, first.width) if rotation in (90, 270) else (first.width, first.height)
    colour = Colour(int(first.color_primaries), int(first.color_trc), int(first.colorspace),
                    int(first.color_range) == 2)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else DEFAULT_FOLDER_FPS
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
    if not all(np.isfinite(times)) or any(b <= a for a, b in zip(times, times[1:])):
        times = None  # no usable timestamps: evenly spaced at the stream's rate
    return Video(path=path, num_frames=count, width=width, height=height, fps=fps,
                 rate=Fraction(rate) if rate else None, times=None if times is None else tuple(times),
                 rotation=rotation, colour=colour, audio=audio, sound=path if audio else None)


def _probe_folder(path: Path, fps: float | None, max_frames: int | None) -> Video:
    files = sorted(
        (p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS),
        key=lambda p: _natural_key(p.name),
    )
    if not files:
        raise UserError(f"folder {path} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    if max_frames is not None and len(files) > max_frames:
        raise _too_long(path, max_frames)
    first = read_image(files[0], "frame")
    return Video(path=path, num_frames=len(files), width=first.shape[1], height=first.shape[0],
                 fps=fps or DEFAULT_FOLDER_FPS, files=files)


def open_video(path: str | os.PathLike, fps: float | None = None, max_frames: int | None = None) -> Video:
    """Open a video file or a folder of frames.

    Args:
        path: a video file (mp4, mov, mkv, webm, gif, ...) or a folder of images, sorted by name
            with numbers compared as numbers.
        fps: frame rate for folders (default 25); ignored for files, which carry their own.
        max_frames: refuse (VideoTooLong) a video with more frames, without reading all of it.

    Returns:
        A `Video`; frames are decoded when iterated, so long clips do not fill memory.

    Example:
        >>> video = open_video("clip.mp4")
        >>> for index, frame in video.frames([0, 10]): ...
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"video {path} does not exist")
    if path.is_dir():
        return _probe_folder(path, fps, max_frames)
    return _probe_file(path, max_frames)


def parse_frame_list(spec: str | None, num_frames: int) -> list[int]:
    """Parse '0-99,120,130' (inclusive ranges) into sorted frame indices, checked against the video."""
    if spec is None or spec.strip() in ("", "all"):
        return list(range(num_frames))
    indices: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise UserError(f"frame list {spec!r}: {part!r} is not an index or a range like 10-20")
        start = int(match.group(1))
        stop = int(match.group(2)) if match.group(2) else start
        if stop < start:
            raise UserError(f"frame list {spec!r}: range {part} runs backwards")
        if stop >= num_frames:
            raise UserError(f"frame list {spec!r}: frame {stop} is out of range (the video has frames 0..{num_frames - 1})")
        indices.update(range(start, stop + 1))
    return sorted(indices)


def is_video_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS
