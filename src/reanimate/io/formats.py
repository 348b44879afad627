"""What a written video is made of: the encoder each output extension gets, colour tags, numbered
image sequences (`shot.%04d.png`, `shot.####.tif`), each frame's time, and the line that says what
was written. `writer.FrameWriter` puts these together.
"""

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from reanimate.core.errors import UserError
from reanimate.io.audio import Span


@dataclass(frozen=True)
class Encoding:
    """An encoder, its pixel format and options, and how the summary names it."""
    codec: str
    pix_fmt: str
    name: str
    options: tuple[tuple[str, str], ...] = ()
    rgb: bool = False  # stores RGB itself: no matrix, full range


H264 = Encoding("libx264", "yuv420p", "H.264")
ENCODINGS = {
    ".mp4": H264, ".m4v": H264, ".avi": H264,
    ".mov": Encoding("prores_ks", "yuv422p10le", "ProRes 422 HQ", (("profile", "3"),)),  # the editors' intermediate
    ".mkv": Encoding("ffv1", "bgr0", "FFV1 (lossless RGB)", (("level", "3"),), rgb=True),
    ".webm": Encoding("libvpx-vp9", "yuv420p", "VP9"),
    ".gif": Encoding("gif", "rgb8", "GIF", rgb=True),
}
FFV1_16 = Encoding("ffv1", "gbrp16le", "FFV1 (lossless 16-bit RGB)", (("level", "3"),), rgb=True)
# With an alpha channel (a layer to composite): only formats a compositor reads alpha from.
ALPHA_ENCODINGS = {
    ".mov": Encoding("prores_ks", "yuva444p10le", "ProRes 4444 (alpha)", (("profile", "4"),)),
    ".mkv": Encoding("ffv1", "bgra", "FFV1 (lossless RGBA)", (("level", "3"),), rgb=True),
}
FFV1_16_ALPHA = Encoding("ffv1", "gbrap16le", "FFV1 (lossless 16-bit RGBA)", (("level", "3"),), rgb=True)
PIXEL_FORMATS = {(3, 8): "rgb24", (4, 8): "rgba", (3, 16): "rgb48le", (4, 16): "rgba64le"}  # (channels, bits)


def encoding_for(suffix: str, alpha: bool = False, deep: bool = False) -> Encoding:
    """The encoder of a video extension for frames with an alpha channel and / or 16 bits a channel.

    16-bit frames keep their depth where the codec has it (FFV1 16-bit; ProRes is 10-bit, so it gets
    the finer source), and are rounded to 8 bits elsewhere. Alpha needs .mov or .mkv."""
    suffix = suffix.lower()
    if alpha and suffix not in ALPHA_ENCODINGS:
        raise UserError(f"{suffix} video has no alpha channel: write the layer with alpha to a .mov (ProRes "
                        "4444), a .mkv (FFV1) or PNG / TIFF frames (shot.%04d.png)")
    if deep and suffix == ".mkv":
        return FFV1_16_ALPHA if alpha else FFV1_16
    return (ALPHA_ENCODINGS if alpha else ENCODINGS).get(suffix, H264)


@dataclass(frozen=True)
class Colour:
    """How a video's pixel values are meant, in FFmpeg's codes: primaries, transfer and matrix (1 BT.709,
    2 unspecified, 5 / 6 BT.601, 9 BT.2020) and the range (full: JPEG's 0-255, else 16-235)."""
    primaries: int = 1
    transfer: int = 1
    matrix: int = 1
    full_range: bool = False

    def said(self) -> "Colour":
        """These tags with what the input left unsaid taken as BT.709 (what an editor assumes for HD)."""
        def known(code: int) -> int:
            return 1 if code in (0, 2) else code
        return Colour(known(self.primaries), known(self.transfer), known(self.matrix), self.full_range)

    def describe(self) -> str:
        names = {1: "BT.709", 5: "BT.601", 6: "BT.601", 9: "BT.2020"}
        return f"{names.get(self.matrix, f'matrix {self.matrix}')}, {'full' if self.full_range else 'limited'} range"


BT709 = Colour()


# -- numbered image sequences ------------------------------------------------------------------------------
SEQUENCE_EXTENSIONS = (".png", ".tif", ".tiff")
_PATTERN = re.compile(r"%0(\d)d|(#+)")


def sequence_pattern(out: Path) -> tuple[str, int] | None:
    """For `shot.%04d.png` or `shot.####.png`: ("shot.{:04d}.png", 4); None for other outputs."""
    found = list(_PATTERN.finditer(out.name))
    if len(found) != 1 or out.suffix.lower() not in SEQUENCE_EXTENSIONS:
        return None
    match = found[0]
    width = int(match.group(1)) if match.group(1) else len(match.group(2))
    name = out.name[:match.start()].replace("{", "{{").replace("}", "}}")
    tail = out.name[match.end():].replace("{", "{{").replace("}", "}}")
    return f"{name}{{:0{width}d}}{tail}", width


def sequence_files(out: Path) -> list[Path]:
    """The files already in OUT's folder that the numbered sequence OUT names (any number); [] for
    other outputs."""
    if sequence_pattern(out) is None or not out.parent.is_dir():
        return []
    match = next(_PATTERN.finditer(out.name))
    numbered = re.compile(re.escape(out.name[:match.start()]) + r"\d+" + re.escape(out.name[match.end():]) + "$")
    return sorted(p for p in out.parent.iterdir() if numbered.match(p.name))


def frame_number(name: str | None, index: int) -> int:
    """The number a frame carries: the last number in its file name (`shot.1001.png` -> 1001), else its index."""
    if name is not None:
        numbers = re.findall(r"\d+", Path(name).stem)
        if numbers:
            return int(numbers[-1])
    return index


# -- time --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timeline:
    """When each written frame is shown (seconds from the output's start; None: every 1/rate), the
    output's length, and the spans of the input's sound that go with the frames."""
    times: tuple[float, ...] | None
    length: float
    spans: tuple[Span, ...]


def timeline(times: tuple[float, ...] | None, rate: Fraction, frames: list[int]) -> Timeline:
    """The output's timing when it keeps `frames` of an input whose frames start at `times` (None:
    an image folder, evenly spaced). Runs of consecutive frames keep their spacing (a variable frame
    rate survives); a jump in `frames` closes the gap, and the sound skips with it."""
    step = 1 / float(rate)
    if times is None or not frames:
        return Timeline(None, len(frames) * step, ())
    source = np.asarray(times, np.float64)
    durations = np.append(np.diff(source), step)
    durations = np.where(durations > 0, durations, step)
    out, spans, now = [], [], 0.0
    run_start = 0
    for k, index in enumerate(frames):
        if k and index != frames[k - 1] + 1:
            first = frames[run_start]
            spans.append(Span(float(source[first]), float(source[frames[k - 1]] + durations[frames[k - 1]]),
                              out[run_start]))
            run_start = k
        out.append(now)
        now += float(durations[index])
    first, last = frames[run_start], frames[-1]
    spans.append(Span(float(source[first]), float(source[last] + durations[last]), out[run_start]))
    steady = np.allclose(np.diff(out), step, atol=0.25 * step) if len(out) > 1 else True
    return Timeline(None if steady else tuple(out), now, tuple(spans))


# -- what was written ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Written:
    """The command's last line: what went where."""
    path: Path
    width: int
    height: int
    frames: int
    rate: float
    seconds: float
    format: str
    audio: str
    variable_rate: bool = False

    def __str__(self) -> str:
        rate = f"{self.rate:.3f}".rstrip("0").rstrip(".")
        return (f"{self.path}: {self.width}x{self.height}, {self.frames} frames, {rate} fps"
                f"{' (variable)' if self.variable_rate else ''}, {self.seconds:.2f} s, {self.format}, "
                f"audio {self.audio}")
