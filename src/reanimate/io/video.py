"""Video and frame-folder I/O with PyAV.

A `Video` is either a video file (mp4/mov/mkv/webm/gif/...) or a folder of images sorted by
name. Frame indices are zero-based positions in the decoded video or the sorted folder. Frames are
read upright (a phone's rotation applied), 8-bit RGB whatever the source's depth or range; each
frame's time, the colour tags and the sound are kept for the output (`FrameWriter`).
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
from reanimate.core.progress import say
from reanimate.io.audio import SILENT_CONTAINERS, Soundtrack, Span, audio_codec, open_soundtrack
from reanimate.io.formats import (BT709, ENCODINGS, H264, Colour, Written, frame_number, sequence_pattern,
                                  timeline)
from reanimate.io.image import encode_image

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".gif", ".m4v")
DEFAULT_FOLDER_FPS = 25.0
FORMATS = {".m4v": "mp4"}  # containers FFmpeg does not guess from the extension
VFR_TIME_BASE = Fraction(1, 90000)  # fine enough for any frame's time
_SWS_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9}  # a tag's matrix -> swscale's (BT.601 has two tags)


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


def check_output_free(path: str | os.PathLike, overwrite: bool) -> None:
    """Refuse early, before any work, to replace an existing output or to write where we cannot."""
    if Path(path).parent.is_dir():
        remove_stale_temps(Path(path))  # first: a folder a killed swap moved aside counts as existing
    if Path(path).exists() and not overwrite:
        raise UserError(f"{path} already exists: choose another --out or pass --overwrite")
    check_writable(path)


class FrameWriter:
    """Writes frames to a video file (by OUT's extension), a numbered image sequence (`shot.%04d.png`,
    `shot.####.tif`) or a folder of PNGs.

    Formats: H.264 (.mp4, .m4v, .avi), ProRes 422 HQ (.mov), lossless FFV1 (.mkv), VP9 (.webm), GIF.
    With `like` (the input video) the output keeps its frames' times (a variable rate survives, 29.97
    stays 30000/1001), its colour tags (BT.709 where it says nothing) and, from `audio` (a media file,
    usually the input), its sound cut to `frames` (the input indices written, in order). Output
    appears only when `close()` succeeds: frames go to a temporary file or folder beside OUT that is
    renamed into place, so an interrupted run leaves no half-written output. Use as a context
    manager; an exception discards the partial output. `written` then says what was made.
    """

    def __init__(self, out: str | os.PathLike, fps: float, overwrite: bool = False, crf: int = 18,
                 like: "Video | None" = None, frames: list[int] | None = None,
                 audio: str | os.PathLike | None = None, verbose: bool = True):
        self.out = Path(out)
        self.pattern = sequence_pattern(self.out)
        self.is_video = is_video_path(self.out) and self.pattern is None
        if self.pattern is None:
            check_output_free(self.out, overwrite)
        else:
            check_writable(self.out.parent / "frame.png")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.overwrite, self.crf, self.verbose = overwrite, crf, verbose
        self.like = like
        self.rate = like.exact_rate if like is not None else Fraction(fps).limit_denominator(1001)
        self.fps = float(self.rate)
        frames = list(frames) if frames is not None else (list(range(len(like))) if like is not None else None)
        self.frames = frames
        self.timeline = timeline(like.times if like is not None else None, self.rate, frames or [])
        self.colour = (like.colour if like is not None else BT709).said()
        self.encoding = ENCODINGS.get(self.out.suffix.lower(), H264)
        self.count = 0
        self.notes: list[str] = []
        self.written: Written | None = None
        self._audio_source = Path(audio) if audio is not None else None
        self._sound: Soundtrack | None = None
        self._container = None
        self._stream = None
        self._variable = False
        self._size: tuple[int, int] | None = None
        self._tmp: Path | None = None  # made at the first frame, so work before it leaves nothing behind

    def _start(self) -> None:
        self._tmp = temp_beside(self.out, folder=not self.is_video)

    def write(self, frame: np.ndarray, name: str | None = None) -> None:
        """Append an RGB uint8 frame; `name` is its PNG file name in folder mode."""
        if self._tmp is None:
            self._start()
        self._size = self._size or (frame.shape[1], frame.shape[0])
        if self.is_video:
            self._write_video_frame(frame)
        elif self.pattern is not None:
            index = self.frames[self.count] if self.frames and self.count < len(self.frames) else self.count
            source = self.like.files[index].name if self.like is not None and self.like.files else None
            file = self._tmp / self.pattern[0].format(frame_number(source, index))
            file.write_bytes(encode_image(frame, file.suffix))
        else:
            (self._tmp / (name or f"{self.count:05d}.png")).write_bytes(encode_png(frame))
        self.count += 1

    def _open_video(self, width: int, height: int) -> None:
        encoding = self.encoding
        self._container = av.open(str(self._tmp), mode="w", format=FORMATS.get(self.out.suffix.lower()))
        self._stream = self._container.add_stream(encoding.codec, rate=self.rate)
        # 4:2:0 chroma needs even sizes: odd frames get one replicated row/column.
        self._stream.width, self._stream.height = width + width % 2, height + height % 2
        self._stream.pix_fmt = encoding.pix_fmt
        options = dict(encoding.options)
        if encoding.codec == "libx264":
            options.update(crf=str(self.crf), preset="medium")
        self._stream.options = options
        context = self._stream.codec_context
        self._variable = self.timeline.times is not None and encoding.codec != "gif"
        if self._variable:
            context.time_base = VFR_TIME_BASE  # each frame's own time
        colour = self.colour
        context.color_primaries, context.color_trc = colour.primaries, colour.transfer
        context.colorspace = 0 if encoding.rgb else colour.matrix  # 0: RGB itself
        context.color_range = 2 if (encoding.rgb or colour.full_range) else 1
        self._start_sound()

    def _start_sound(self) -> None:
        if self._audio_source is None:
            return
        if not self._audio_source.is_file():
            self.notes.append(f"{self._audio_source} is gone: the output is silent")
            return
        if self.out.suffix.lower() in SILENT_CONTAINERS:
            self.notes.append(f"{self.out.suffix} files have no sound: the audio of {self._audio_source.name} is left out")
            return
        spans = list(self.timeline.spans) or [Span(0.0, self.timeline.length, 0.0)]
        self._sound = open_soundtrack(self._audio_source, spans, self.timeline.length)
        if self._sound is not None:
            self._sound.attach(self._container, self.out.suffix.lower())

    def _write_video_frame(self, frame: np.ndarray) -> None:
        height, width = frame.shape[:2]
        if self._stream is None:
            self._open_video(width, height)
        if width % 2 or height % 2:
            frame = np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        if not self.encoding.rgb:  # RGB to YUV with the matrix and range the tags will say
            picture = picture.reformat(format=self.encoding.pix_fmt, dst_colorspace=_SWS_MATRIX.get(self.colour.matrix, 1),
                                       dst_color_range=2 if self.colour.full_range else 1)
        picture.color_primaries, picture.color_trc = self.colour.primaries, self.colour.transfer  # tags only
        seconds = self._time(self.count)
        picture.pts = round(seconds / VFR_TIME_BASE) if self._variable else self.count
        for packet in self._stream.encode(picture):
            self._container.mux(packet)
        if self._sound is not None:
            self._sound.mux_until(self._container, seconds)

    def _time(self, count: int) -> float:
        times = self.timeline.times
        return times[count] if times is not None and count < len(times) else count / float(self.rate)

    def close(self) -> Path:
        """Finish the file or folder and move it into place at OUT."""
        if self._tmp is None:
            raise UserError(f"no frames were written to {self.out}")
        audio = "none"
        if self.is_video:
            for packet in self._stream.encode():
                self._container.mux(packet)
            if self._sound is not None:
                self._sound.finish(self._container)
                self.notes += self._sound.notes
                audio = self._sound.action
            self._container.close()
            self._container = None
            publish_mode(self._tmp)
            os.replace(self._tmp, self.out)
        else:
            if self._audio_source is not None and self._audio_source.is_file() and audio_codec(self._audio_source):
                self.notes.append(f"image files have no sound: the audio of {self._audio_source.name} is left out")
            if self.pattern is not None:
                self._publish_sequence()
            else:
                publish_dir(self._tmp, self.out)
        self._tmp = None
        for note in dict.fromkeys(self.notes):  # each once
            say(f"{self.out.name}: {note}", self.verbose)
        self.written = self._describe(audio)
        return self.out

    def _publish_sequence(self) -> None:
        files = sorted(self._tmp.iterdir())
        taken = [f.name for f in files if (self.out.parent / f.name).exists()]
        if taken and not self.overwrite:
            raise UserError(f"{self.out.parent / taken[0]} already exists: choose another --out or pass --overwrite")
        for file in files:
            publish_mode(file)
            os.replace(file, self.out.parent / file.name)
        self._tmp.rmdir()

    def _describe(self, audio: str) -> Written:
        width, height = self._size
        whole = self.frames is not None and self.count == len(self.frames)
        seconds = self.timeline.length if whole else self.count / float(self.rate)
        variable = self.is_video and self._variable
        if self.is_video:
            kind = self.encoding.name
        else:
            kind = f"{self.out.suffix.upper().lstrip('.') if self.pattern else 'PNG'} images"
        return Written(self.out, width, height, self.count, float(self.rate), seconds, kind, audio, variable)

    def abort(self) -> None:
        if self._sound is not None:
            self._sound.close()
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
