"""Test media made with PyAV: clips with a tone, a rotation, a variable rate, 10 bits or full range."""

from fractions import Fraction

import av
import numpy as np

RATE, SIZE = 48000, (64, 48)


def moving(count: int, size=SIZE) -> list[np.ndarray]:
    """Frames whose content says which they are: a bright bar moving right over a gradient."""
    width, height = size
    out = []
    for i in range(count):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None]
        frame[..., 2] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
        frame[:, (i * 3) % width:(i * 3) % width + 4] = 255
        out.append(frame)
    return out


def tone(seconds: float, rate: int = RATE) -> np.ndarray:
    """A 440 Hz tone, stereo planar float (2, n), louder on the left."""
    t = np.arange(round(seconds * rate)) / rate
    wave = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    return np.stack([0.5 * wave, 0.25 * wave])


def make_clip(path, frames, fps=25, audio_seconds=None, audio_codec="aac", times=None, rotation=0,
              pix_fmt="yuv420p", codec="libx264", colour_range=None):
    """A clip of `frames` (RGB) with an optional tone; `times` (s) for a variable rate."""
    container = av.open(str(path), "w")
    video = container.add_stream(codec, rate=fps)
    video.height, video.width = frames[0].shape[:2]
    video.pix_fmt = pix_fmt
    if times is not None:
        video.codec_context.time_base = Fraction(1, 1000)
    if rotation:
        video.set_display_rotation(rotation)
    if colour_range is not None:
        video.codec_context.color_range = colour_range
    sound = None
    if audio_seconds:
        sound = container.add_stream(audio_codec, rate=RATE, layout="stereo")
    for i, frame in enumerate(frames):
        picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
        picture = picture.reformat(format=pix_fmt, dst_color_range=colour_range or 1)
        picture.pts = round(times[i] * 1000) if times is not None else i
        for packet in video.encode(picture):
            container.mux(packet)
    for packet in video.encode():
        container.mux(packet)
    if sound is not None:
        samples = tone(audio_seconds)
        if not sound.codec_context.is_open:
            sound.codec_context.open()
        size = sound.codec_context.frame_size or 1024
        convert = av.AudioResampler(format=sound.codec_context.format.name, layout="stereo", rate=RATE)
        for start in range(0, samples.shape[1], size):
            chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start:start + size]), format="fltp",
                                               layout="stereo")
            chunk.sample_rate = RATE
            for part in convert.resample(chunk):
                part.pts = start
                for packet in sound.encode(part):
                    container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)
    container.close()
    return path
