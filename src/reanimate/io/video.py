"""Video and frame-folder I/O with PyAV.

A `Video` is either a video file (mp4/mov/mkv/webm/gif/...) or a folder of images sorted by
name. Frame indices are zero-based positions in the decoded video or the sorted folder.
"""

import os
import re
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import av
import numpy as np

from reanimate.core.errors import UserError, brief
from reanimate.core.files import check_writable, publish_dir, publish_mode, remove_stale_temps, temp_beside
from reanimate.io.image import IMAGE_EXTENSIONS, encode_png, read_image

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".gif", ".m4v")
# Container extension -> (encoder, pixel format). H.264 wherever the container takes it.
_ENCODERS = {".webm": ("libvpx-vp9", "yuv420p"), ".gif": ("gif", "rgb8")}
_DEFAULT_ENCODER = ("libx264", "yuv420p")
DEFAULT_FOLDER_FPS = 25.0


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

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

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


def _decode(path: Path, convert: bool = True) -> Iterator:
    """Decode every frame of a video file as RGB uint8 (or PyAV frames); a damaged tail ends the stream early."""
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
                yield frame.to_ndarray(format="rgb24") if convert else frame
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
            return  # truncated or damaged tail: keep the frames decoded so far


class VideoTooLong(UserError):
    """A video with more frames than the caller takes."""


def _too_long(path: Path, max_frames: int) -> VideoTooLong:
    return VideoTooLong(f"{path.name} has more than {max_frames} frames")


def _probe_file(path: Path, max_frames: int | None) -> Video:
    count, shape = 0, None
    for frame in _decode(path, convert=False):
        count += 1
        shape = shape or (frame.height, frame.width)
        if max_frames is not None and count > max_frames:
            raise _too_long(path, max_frames)  # before decoding all of a long file just to count it
    if count == 0:
        raise UserError(f"{path} has no decodable frames: the file is empty or corrupt")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else DEFAULT_FOLDER_FPS
    return Video(path=path, num_frames=count, width=shape[1], height=shape[0], fps=fps)


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


def check_output_free(path: str | os.PathLike, overwrite: bool) -> None:
    """Refuse early, before any work, to replace an existing output or to write where we cannot."""
    if Path(path).parent.is_dir():
        remove_stale_temps(Path(path))  # first: a folder a killed swap moved aside counts as existing
    if Path(path).exists() and not overwrite:
        raise UserError(f"{path} already exists: choose another --out or pass --overwrite")
    check_writable(path)


class FrameWriter:
    """Writes frames to a video file (OUT with a video extension) or a folder of PNGs.

    Output appears only when `close()` succeeds: frames go to a temporary file or folder beside
    OUT that is renamed into place, so an interrupted run leaves no half-written output.
    Use as a context manager; an exception discards the partial output.
    """

    def __init__(self, out: str | os.PathLike, fps: float, overwrite: bool = False, crf: int = 18):
        self.out = Path(out)
        check_output_free(self.out, overwrite)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps
        self.crf = crf
        self.count = 0
        self.is_video = is_video_path(self.out)
        self._container = None
        self._stream = None
        self._tmp: Path | None = None  # made at the first frame, so work before it leaves nothing behind

    def _start(self) -> None:
        self._tmp = temp_beside(self.out, folder=not self.is_video)

    def write(self, frame: np.ndarray, name: str | None = None) -> None:
        """Append an RGB uint8 frame; `name` is its PNG file name in folder mode."""
        if self._tmp is None:
            self._start()
        if self.is_video:
            self._write_video_frame(frame)
        else:
            (self._tmp / (name or f"{self.count:05d}.png")).write_bytes(encode_png(frame))
        self.count += 1

    def _write_video_frame(self, frame: np.ndarray) -> None:
        height, width = frame.shape[:2]
        if self._stream is None:
            codec, pix_fmt = _ENCODERS.get(self.out.suffix.lower(), _DEFAULT_ENCODER)
            self._container = av.open(str(self._tmp), mode="w")
            rate = Fraction(self.fps).limit_denominator(1001)
            self._stream = self._container.add_stream(codec, rate=rate)
            # 4:2:0 chroma needs even sizes: odd frames get one replicated row/column.
            self._stream.width, self._stream.height = width + width % 2, height + height % 2
            self._stream.pix_fmt = pix_fmt
            if codec == "libx264":
                self._stream.options = {"crf": str(self.crf), "preset": "medium"}
        if width % 2 or height % 2:
            frame = np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)

    def close(self) -> Path:
        """Finish the file or folder and move it into place at OUT."""
        if self._tmp is None:
            raise UserError(f"no frames were written to {self.out}")
        if self.is_video:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None
        if self.is_video:
            publish_mode(self._tmp)
            os.replace(self._tmp, self.out)
        else:
            publish_dir(self._tmp, self.out)
        self._tmp = None
        return self.out

    def abort(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except av.error.FFmpegError:
                pass
        if self._tmp is not None:
            if self._tmp.is_dir():
                shutil.rmtree(self._tmp, ignore_errors=True)
            else:
                self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "FrameWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
            return
        try:
            self.close()
        except BaseException:
            self.abort()  # e.g. a full disk while finishing: leave nothing half-written
            raise
