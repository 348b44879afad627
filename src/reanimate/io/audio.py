"""The sound of a video written by reanimate: another file's audio, cut to the frames kept, muxed in
step with the frames (`FrameWriter` calls `Soundtrack` as it writes).

The stream is copied packet for packet (no re-encoding, no loss) when the output keeps the whole
clip and its container takes the codec; otherwise it is decoded, cut to the kept spans sample by
sample (so it stays within a frame of the pictures), padded with silence or cut to the pictures'
length, and encoded (AAC; Opus in WebM, PCM in AVI). A damaged stream ends the sound, not the work.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from reanimate.core.errors import UserError, brief

# Codecs each container holds as they are (by extension); None: any. Others are encoded.
COPYABLE = {".mp4": {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"},
            ".m4v": {"aac", "mp3", "alac", "ac3", "eac3"},
            ".mov": {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le", "pcm_f32le", "pcm_s16be", "pcm_s24be"},
            ".mkv": None,
            ".webm": {"opus", "vorbis"},
            ".avi": {"mp3", "ac3", "pcm_s16le", "pcm_u8"}}
ENCODERS = {".webm": "libopus", ".avi": "pcm_s16le", ".mov": "pcm_s16le"}  # else AAC
SILENT_CONTAINERS = (".gif",)
RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)
AHEAD = 0.5  # seconds of sound muxed ahead of the pictures


@dataclass(frozen=True)
class Span:
    """`start`..`end` seconds of the source's sound, played from `at` seconds in the output."""
    start: float
    end: float
    at: float


def audio_codec(path: Path) -> str | None:
    """The codec of a media file's first audio stream, None when it has none (or cannot be read)."""
    try:
        with av.open(str(path)) as container:
            return container.streams.audio[0].codec_context.name if container.streams.audio else None
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError):
        return None


class Soundtrack:
    """The audio of `source` over `spans` (in order, not overlapping), for an output of `length` seconds.

    `copy=True` asks for the stream as it is: taken when the output keeps one span from the start
    and its container (`suffix`) holds the codec. `notes` collects what the user should hear of.
    """

    def __init__(self, source: str | Path, spans: list[Span], length: float, copy: bool = True):
        self.source, self.spans, self.length = Path(source), spans, length
        self._input = av.open(str(self.source))
        self._in_stream = self._input.streams.audio[0]
        self.codec = self._in_stream.codec_context.name
        self._copy_wanted = copy and len(spans) == 1 and spans[0].at == 0
        self.action = "none"
        self.notes: list[str] = []
        self._out_stream = None
        self._pending: Iterator | None = None
        self._muxed_to = 0.0

    def attach(self, container, suffix: str) -> None:
        """Add the output's audio stream; call before the first frame is muxed."""
        copyable = COPYABLE.get(suffix, set())
        if self._copy_wanted and (copyable is None or self.codec in copyable):
            self._out_stream = container.add_stream_from_template(self._in_stream)
            self.action = f"copied ({self.codec})"
            self._pending = self._copied_packets()
            return
        encoder = ENCODERS.get(suffix, "aac")
        if self._copy_wanted:
            self.notes.append(f"{suffix} does not hold {self.codec} audio: encoded as {encoder}")
        rate = self._in_stream.codec_context.sample_rate or 48000
        rate = 48000 if encoder == "libopus" or rate not in RATES else rate
        layout = "stereo" if self._in_stream.codec_context.channels >= 2 else "mono"
        self._out_stream = container.add_stream(encoder, rate=rate, layout=layout)
        self.action = f"encoded ({self._out_stream.codec_context.name.removeprefix('lib')})"
        self._pending = self._encoded_packets(rate, layout)

    def mux_until(self, container, seconds: float) -> None:
        """Mux the sound up to `seconds` of the output (plus a little ahead), as the pictures reach it."""
        if self._pending is None or seconds + AHEAD <= self._muxed_to:
            return
        try:
            for packet, time in self._pending:
                container.mux(packet)
                self._muxed_to = time
                if time >= seconds + AHEAD:
                    return
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            self.notes.append(f"the audio of {self.source.name} is damaged after {self._muxed_to:.1f} s "
                              f"({brief(exc)}): the rest of the output is silent")
        self._pending = None  # all muxed, or the stream broke

    def finish(self, container) -> None:
        self.mux_until(container, float("inf"))
        self._input.close()

    def close(self) -> None:
        self._input.close()

    # -- the two ways of carrying it ------------------------------------------------------------------------
    def _copied_packets(self):
        span = self.spans[0]
        base = self._in_stream.time_base
        shift = round(span.start / base)  # the source's video start: the output's time 0
        last_end = 0.0
        for packet in self._input.demux(self._in_stream):
            if packet.pts is None or packet.size == 0:
                continue
            start = float(packet.pts * base) - span.start
            if start + float((packet.duration or 0) * base) < -1e-6:
                continue  # sound wholly before the first picture; an encoder's priming packet stays
            if start >= self.length:
                self.notes.append(f"audio cut to the video's {self.length:.2f} s")
                break
            packet.pts -= shift
            packet.dts = packet.pts if packet.dts is None else packet.dts - shift
            packet.stream = self._out_stream
            last_end = start + float((packet.duration or 0) * base)
            yield packet, start
        self._note_short(last_end)

    def _encoded_packets(self, rate: int, layout: str):
        stream = self._out_stream
        if not stream.codec_context.is_open:
            stream.codec_context.open()
        size = stream.codec_context.frame_size or 1024  # PCM takes frames of any size
        channels = 2 if layout == "stereo" else 1
        convert = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
        total = round(self.length * rate)
        buffer, written, heard = np.zeros((channels, 0), np.float32), 0, 0

        def encode(samples: np.ndarray, pts: int):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format="fltp", layout=layout)
            frame.sample_rate = rate
            for converted in convert.resample(frame):
                converted.pts = pts
                for packet in stream.encode(converted):
                    yield packet, pts / rate

        for chunk, at in self._cut_samples(rate, layout):
            heard = max(heard, at + chunk.shape[1])
            at_now = written + buffer.shape[1]
            chunk = chunk[:, max(0, at_now - at):max(0, total - at)]  # no overlap, no sound past the pictures
            gap = np.zeros((channels, max(0, at - at_now)), np.float32)  # a span without sound: silence keeps sync
            buffer = np.concatenate([buffer, gap, chunk], 1)
            whole = buffer.shape[1] // size * size
            for offset in range(0, whole, size):
                yield from encode(buffer[:, offset:offset + size], written + offset)
            buffer, written = buffer[:, whole:], written + whole
        self._note_short(min(heard, total) / rate)
        buffer = np.concatenate([buffer, np.zeros((channels, max(0, total - written - buffer.shape[1])), np.float32)], 1)
        for offset in range(0, buffer.shape[1], size):  # the rest, padded to the pictures' length
            yield from encode(buffer[:, offset:offset + size], written + offset)
        for packet in stream.encode(None):
            yield packet, self.length

    def _cut_samples(self, rate: int, layout: str):
        """(planar float32 samples, output sample index) of the spans, in order."""
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        spans = iter(self.spans)
        span = next(spans)
        heard = 0  # samples of the source seen so far (at the output rate)
        start = None
        for frame in self._input.decode(self._in_stream):
            for part in resampler.resample(frame):
                data = part.to_ndarray().astype(np.float32).reshape(-1, part.samples)
                if start is None:
                    start = float(frame.pts * frame.time_base) if frame.pts is not None else 0.0
                begin = start + heard / rate  # this part's time in the source
                heard += part.samples
                while span is not None:
                    lo, hi = max(begin, span.start), min(begin + part.samples / rate, span.end)
                    if hi > lo:
                        a, b = round((lo - begin) * rate), round((hi - begin) * rate)
                        yield data[:, a:b], round((span.at + lo - span.start) * rate)
                    if span.end > begin + part.samples / rate:
                        break  # the span goes on in the next part
                    span = next(spans, None)
                if span is None:
                    if begin + part.samples / rate > self.spans[-1].end + 0.04 and self._copy_wanted:
                        self.notes.append(f"audio cut to the video's {self.length:.2f} s")
                    return

    def _note_short(self, heard_to: float) -> None:
        if heard_to < self.length - 0.04:
            self.notes.append(f"the audio ends {self.length - heard_to:.2f} s before the video: the rest is silent")


def open_soundtrack(source: str | Path, spans: list[Span], length: float, copy: bool = True) -> Soundtrack | None:
    """The `Soundtrack` of `source`, or None when it has no sound; a file that cannot be read is refused."""
    try:
        return Soundtrack(source, spans, length, copy) if audio_codec(Path(source)) else None
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise UserError(f"{source}: its sound cannot be read ({brief(exc)})") from exc
