"""Writing frames: a video file by OUT's extension, a numbered image sequence or a folder of PNGs,
with the input's sound, frame times and colour tags (`FrameWriter`); written atomically.
"""

import os
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.files import check_writable, publish_dir, publish_mode, remove_stale_temps, temp_beside
from reanimate.core.progress import say
from reanimate.io.audio import SILENT_CONTAINERS, Soundtrack, Span, audio_codec, open_soundtrack
from reanimate.io.formats import (BT709, PIXEL_FORMATS, Encoding, Written, encoding_for, frame_number, sequence_files,
                                  sequence_pattern, timeline)
from reanimate.io.image import encode_image, encode_png
from reanimate.io.video import FORMATS, Video, is_video_path

VFR_TIME_BASE = Fraction(1, 90000)  # fine enough for any frame's time
# x264 "fast": the quality of "medium" at crf 18 (PSNR within 0.01 dB, 3 % larger files, measured on a
# talking-head output) and a quarter less time, which a 2-core machine feels.
X264_PRESET = "fast"
_SWS_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9}  # a tag's matrix -> swscale's (BT.601 has two tags)


def check_output_free(path: str | os.PathLike, overwrite: bool) -> None:
    """Refuse early, before any work, to replace an existing output or to write where we cannot."""
    path = Path(path)
    if path.parent.is_dir():
        remove_stale_temps(path)  # first: a folder a killed swap moved aside counts as existing
    taken = sequence_files(path)  # the numbers follow the input's: any frame of the sequence's name counts
    if taken and not overwrite:
        raise UserError(f"{taken[0]} already exists: choose another `out` or pass `overwrite`")
    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists: choose another `out` or pass `overwrite`")
    check_writable(path if sequence_pattern(path) is None else path.parent / "frame.png")


def check_alpha_output(path: str | os.PathLike) -> None:
    """Refuse, before any work, an output that cannot hold an alpha layer."""
    path = Path(path)
    if is_video_path(path) and sequence_pattern(path) is None:
        encoding_for(path.suffix, alpha=True)


def exact_alpha(picture: av.VideoFrame, alpha: np.ndarray) -> None:
    """Write `alpha` (H, W; uint8 or uint16) into the 10-bit alpha plane of a `yuva444p10le` picture.

    swscale's RGBA -> yuva444p10le garbles the alpha of some rows (PyAV 18's FFmpeg: about one frame
    in two at 270 px high, runs of pixels at half opacity), so the plane is filled here, exactly."""
    full = 65535 if alpha.dtype == np.uint16 else 255
    plane = picture.planes[3]
    rows = np.zeros((alpha.shape[0], plane.line_size // 2), np.uint16)
    rows[:, :alpha.shape[1]] = (alpha.astype(np.uint32) * 1023 + full // 2) // full
    plane.update(rows.tobytes())


class FrameWriter:
    """Writes frames to a video file (by OUT's extension), a numbered image sequence (`shot.%04d.png`,
    `shot.####.tif`) or a folder of PNGs.

    Formats: H.264 (.mp4, .m4v, .avi), ProRes 422 HQ (.mov), lossless FFV1 (.mkv), VP9 (.webm), GIF.
    Frames may be RGB or RGBA, 8 or 16 bits a channel (`encoding_for`): RGBA goes to ProRes 4444,
    FFV1 RGBA or RGBA PNG / TIFF; 16 bits to FFV1 16-bit or 16-bit PNG / TIFF (rounded where a codec
    has 8).
    With `like` (the input video) the output keeps its frames' times (a variable rate survives, 29.97
    stays 30000/1001), its colour tags (BT.709 where it says nothing) and, from `audio` (a media file,
    usually the input), its sound cut to `frames` (the input indices written, in order). Output
    appears only when `close()` succeeds: frames go to a temporary file or folder beside OUT that is
    renamed into place, so an interrupted run leaves no half-written output. Use as a context
    manager; an exception discards the partial output. `written` then says what was made.
    """

    def __init__(self, out: str | os.PathLike, fps: float, overwrite: bool = False, crf: int = 18,
                 like: Video | None = None, frames: list[int] | None = None,
                 audio: str | os.PathLike | None = None, verbose: bool = True):
        self.out = Path(out)
        self.pattern = sequence_pattern(self.out)
        self.is_video = is_video_path(self.out) and self.pattern is None
        check_output_free(self.out, overwrite)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.overwrite, self.crf, self.verbose = overwrite, crf, verbose
        self.like = like
        self.rate = like.exact_rate if like is not None else Fraction(fps).limit_denominator(1001)
        self.fps = float(self.rate)
        frames = list(frames) if frames is not None else (list(range(len(like))) if like is not None else None)
        self.frames = frames
        self.timeline = timeline(like.times if like is not None else None, self.rate, frames or [])
        self.colour = (like.colour if like is not None else BT709).said()
        self.encoding: Encoding | None = None  # chosen by the first frame's channels and depth
        self.count = 0
        self.notes: list[str] = []
        self.written: Written | None = None
        self._audio_source = Path(audio) if audio is not None else None
        self._sound: Soundtrack | None = None
        self._container = None
        self._stream = None
        self._variable = False
        self._size: tuple[int, int] | None = None
        self._layout: tuple[int, int] | None = None  # (channels, bits) of the frames
        self._tmp: Path | None = None  # made at the first frame, so work before it leaves nothing behind

    def _start(self) -> None:
        self._tmp = temp_beside(self.out, folder=not self.is_video)

    def write(self, frame: np.ndarray, name: str | None = None) -> None:
        """Append an RGB or RGBA frame, uint8 or uint16 (16 bits a channel); `name` is its PNG file name
        in folder mode. Every frame has the first one's channels and depth."""
        layout = (frame.shape[2] if frame.ndim == 3 else 0, {np.uint8: 8, np.uint16: 16}.get(frame.dtype.type, 0))
        if layout not in PIXEL_FORMATS or (self._layout or layout) != layout:
            raise ValueError(f"frames must be RGB or RGBA, uint8 or uint16, all alike; got {frame.shape} {frame.dtype}")
        if self._tmp is None:
            self._layout = layout
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
        channels, bits = self._layout
        self.encoding = encoding = encoding_for(self.out.suffix, alpha=channels == 4, deep=bits == 16)
        self._container = av.open(str(self._tmp), mode="w", format=FORMATS.get(self.out.suffix.lower()))
        self._stream = self._container.add_stream(encoding.codec, rate=self.rate)
        # 4:2:0 chroma needs even sizes: odd frames get one replicated row/column.
        self._stream.width, self._stream.height = width + width % 2, height + height % 2
        self._stream.pix_fmt = encoding.pix_fmt
        options = dict(encoding.options)
        if encoding.codec == "libx264":
            options.update(crf=str(self.crf), preset=X264_PRESET)
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
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=PIXEL_FORMATS[self._layout])
        if not self.encoding.rgb:  # RGB to YUV with the matrix and range the tags will say
            picture = picture.reformat(format=self.encoding.pix_fmt, dst_colorspace=_SWS_MATRIX.get(self.colour.matrix, 1),
                                       dst_color_range=2 if self.colour.full_range else 1)
            if frame.shape[2] == 4:
                exact_alpha(picture, frame[..., 3])
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
            raise UserError(f"{self.out.parent / taken[0]} already exists: choose another `out` or pass `overwrite`")
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
            channels, bits = self._layout
            kind = (f"{self.out.suffix.upper().lstrip('.') if self.pattern else 'PNG'} images"
                    + (" with alpha" if channels == 4 else "") + (", 16-bit" if bits == 16 else ""))
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
