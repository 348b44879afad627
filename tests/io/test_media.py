"""Video the way editors have it: sound, phone rotation, variable frame rates, 10-bit and full-range
input, colour tags, ProRes / FFV1 / numbered sequences. The media are made here with PyAV."""

from fractions import Fraction

import av
import numpy as np
import pytest

from reanimate.core.errors import UserError
from reanimate.io.formats import sequence_pattern, timeline
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter

from media import RATE, make_clip, moving  # tests/media.py


def audio_of(path) -> tuple[str, np.ndarray, float]:
    """(codec, planar float samples, start time) of a file's sound."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        parts, start = [], None
        for frame in container.decode(stream):
            start = float(frame.time) if start is None else start
            parts.append(frame.to_ndarray().astype(np.float32).reshape(-1, frame.samples))
        return stream.codec_context.name, np.concatenate(parts, 1), start


def packets_of(path):
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def rewrite(source, out, frames=None, **options):
    video = open_video(source)
    kept = list(range(len(video))) if frames is None else frames
    with FrameWriter(out, video.fps, like=video, frames=kept, audio=video.sound,
                     **options) as writer:
        for index, frame in video.frames(kept):
            writer.write(frame, video.frame_name(index))
    return writer.written


def test_the_sound_is_copied_as_it_is(tmp_path):
    clip = make_clip(tmp_path / "in.mp4", moving(50), audio_seconds=2.0)
    written = rewrite(clip, tmp_path / "out.mp4")
    assert written.audio == "copied (aac)" and "64x48" in str(written) and "25 fps" in str(written)
    assert packets_of(tmp_path / "out.mp4") == packets_of(clip)  # the very packets: no re-encoding
    assert open_video(tmp_path / "out.mp4").audio == "aac"


def test_the_sound_follows_the_frames_kept(tmp_path):
    clip = make_clip(tmp_path / "in.mp4", moving(50), audio_seconds=2.0)
    kept = list(range(10, 20)) + list(range(30, 40))  # two runs: 0.8 s of pictures
    written = rewrite(clip, tmp_path / "out.mp4", frames=kept)
    assert written.audio == "encoded (aac)" and abs(written.seconds - 0.8) < 1e-6
    codec, samples, _ = audio_of(tmp_path / "out.mp4")
    assert abs(samples.shape[1] / RATE - 0.8) <= 0.04  # within a frame
    # Each run's sound is the source's at those frames' times: the tone's phase there.
    _, source, _ = audio_of(clip)
    at = int(0.1 * RATE)  # 0.1 s into the output = 0.5 s into the source (frame 12.5)
    window = samples[0, at:at + 480]
    expected = source[0, int(0.5 * RATE):int(0.5 * RATE) + 480]
    assert np.corrcoef(window, expected)[0, 1] > 0.9


def test_silent_inputs_and_folders(tmp_path, capsys):
    silent = make_clip(tmp_path / "silent.mp4", moving(10))
    assert rewrite(silent, tmp_path / "out.mp4").audio == "none"
    clip = make_clip(tmp_path / "in.mp4", moving(10), audio_seconds=0.4)
    written = rewrite(clip, tmp_path / "frames")  # a folder of PNGs: no sound, said once, no failure
    assert written.audio == "none" and len(list((tmp_path / "frames").glob("*.png"))) == 10
    assert capsys.readouterr().err.count("have no sound") == 1


def test_short_and_long_sound_is_padded_or_cut(tmp_path, capsys):
    short = make_clip(tmp_path / "short.mp4", moving(50), audio_seconds=1.0)
    rewrite(short, tmp_path / "out.mp4", frames=list(range(10)) + list(range(12, 50)))  # 48 frames, 1.92 s
    _, samples, _ = audio_of(tmp_path / "out.mp4")
    assert abs(samples.shape[1] / RATE - 48 / 25) <= 0.04  # padded with silence to the pictures
    assert np.abs(samples[:, -RATE // 2:]).max() < 1e-3
    assert "before the video" in capsys.readouterr().err
    long = make_clip(tmp_path / "long.mp4", moving(25), audio_seconds=3.0)
    rewrite(long, tmp_path / "out2.mp4")
    _, samples, _ = audio_of(tmp_path / "out2.mp4")
    assert samples.shape[1] / RATE <= 1.0 + 0.05
    assert "cut to the video" in capsys.readouterr().err


def test_a_codec_the_container_cannot_hold_is_encoded(tmp_path, capsys):
    clip = make_clip(tmp_path / "in.mkv", moving(25), audio_seconds=1.0, audio_codec="pcm_s16le")
    written = rewrite(clip, tmp_path / "out.mp4")
    assert written.audio == "encoded (aac)" and "does not hold pcm_s16le" in capsys.readouterr().err
    written = rewrite(clip, tmp_path / "out.webm")
    assert written.audio == "encoded (opus)"


def test_a_damaged_sound_keeps_the_pictures(tmp_path, capsys):
    clip = make_clip(tmp_path / "in.mkv", moving(50), audio_seconds=2.0, audio_codec="pcm_s16le")
    data = bytearray(clip.read_bytes())
    tail = len(data) * 3 // 4  # scribble over the last quarter of the file
    data[tail:] = bytes(len(data) - tail)
    clip.write_bytes(bytes(data))
    video = open_video(clip)
    written = rewrite(clip, tmp_path / "out.mp4")
    assert written.frames == len(video) and (tmp_path / "out.mp4").exists()


def test_phone_rotation_is_read_upright(tmp_path):
    frames = moving(5, (64, 48))
    for degrees, turns in ((90, 1), (-90, -1), (180, 2)):
        clip = make_clip(tmp_path / f"r{degrees}.mp4", frames, rotation=degrees)
        video = open_video(clip)
        assert video.rotation == degrees % 360
        read = video.read(2)
        expected = np.rot90(frames[2], turns)
        assert read.shape == expected.shape and video.size == (expected.shape[1], expected.shape[0])
        assert np.abs(read.astype(int) - expected).mean() < 8
        written = rewrite(clip, tmp_path / f"up{degrees}.mp4")  # written upright, with no rotation left
        again = open_video(tmp_path / f"up{degrees}.mp4")
        assert again.rotation == 0 and again.size == video.size and written.width == video.width


def test_a_nonsense_rotation_is_refused(tmp_path):
    clip = make_clip(tmp_path / "r45.mp4", moving(3), rotation=45)
    with pytest.raises(UserError, match="45 degrees"):
        open_video(clip)


def test_variable_frame_rate_keeps_each_frames_time(tmp_path):
    times = np.cumsum([0] + [0.04, 0.04, 0.1, 0.02, 0.04, 0.2, 0.04, 0.04, 0.033])[:10]
    clip = make_clip(tmp_path / "vfr.mp4", moving(10), times=list(times), fps=25)
    video = open_video(clip)
    assert np.allclose(video.times, times, atol=1e-3)
    written = rewrite(clip, tmp_path / "out.mp4")
    assert written.variable_rate
    again = open_video(tmp_path / "out.mp4")
    assert np.allclose(np.array(again.times) - again.times[0], times, atol=2e-3)


def test_ntsc_rates_stay_exact(tmp_path):
    for rate in (Fraction(30000, 1001), Fraction(24000, 1001)):
        clip = make_clip(tmp_path / f"{rate.numerator}.mp4", moving(12), fps=rate)
        rewrite(clip, tmp_path / f"out{rate.numerator}.mp4")
        again = open_video(tmp_path / f"out{rate.numerator}.mp4")
        assert again.exact_rate == rate


def test_ten_bit_and_full_range_input_read_right(tmp_path):
    frames = moving(4)
    ten = open_video(make_clip(tmp_path / "ten.mp4", frames, pix_fmt="yuv420p10le"))
    assert np.abs(ten.read(1).astype(int) - frames[1]).mean() < 6
    full = open_video(make_clip(tmp_path / "full.mp4", frames, colour_range=2))
    assert full.colour.full_range
    got = full.read(1).astype(int)
    assert np.abs(got - frames[1]).mean() < 6  # not crushed (16-235 read as 0-255) nor stretched
    assert got.max() >= 245 and got.min() <= 10
    rewrite(tmp_path / "full.mp4", tmp_path / "out.mp4")
    assert open_video(tmp_path / "out.mp4").colour.full_range


def test_colour_is_tagged_bt709(tmp_path):
    clip = make_clip(tmp_path / "in.mp4", moving(3))
    rewrite(clip, tmp_path / "out.mp4")
    colour = open_video(tmp_path / "out.mp4").colour
    assert (colour.primaries, colour.transfer, colour.matrix, colour.full_range) == (1, 1, 1, False)


@pytest.mark.parametrize("suffix, codec", [(".mov", "prores"), (".mkv", "ffv1")])
def test_pro_formats_round_trip(tmp_path, suffix, codec):
    frames = moving(6)
    clip = make_clip(tmp_path / "in.mp4", frames, audio_seconds=0.24)
    video = open_video(clip)
    written = rewrite(clip, tmp_path / f"out{suffix}")
    with av.open(str(tmp_path / f"out{suffix}")) as container:
        assert container.streams.video[0].codec_context.name == codec and container.streams.audio
    again = open_video(tmp_path / f"out{suffix}")
    error = np.abs(again.read(3).astype(int) - video.read(3))
    assert error.max() == 0 if codec == "ffv1" else error.mean() < 2  # FFV1 is lossless
    assert written.frames == 6


def test_numbered_sequences_follow_the_input(tmp_path):
    folder = tmp_path / "plates"
    folder.mkdir()
    from reanimate.io.image import write_png
    for number in (1001, 1002, 1004):  # a gap in the numbering stays
        write_png(folder / f"shot.{number}.png", moving(1)[0])
    video = open_video(folder)
    rewrite(folder, tmp_path / "out" / "graded.%04d.png")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["graded.1001.png", "graded.1002.png",
                                                                    "graded.1004.png"]
    rewrite(folder, tmp_path / "tif" / "graded.####.tif")
    assert sorted(p.name for p in (tmp_path / "tif").iterdir())[0] == "graded.1001.tif"
    assert np.array_equal(open_video(tmp_path / "tif").read(0), video.read(0))
    with pytest.raises(UserError, match="already exists"):
        rewrite(folder, tmp_path / "out" / "graded.%04d.png")
    assert sequence_pattern(tmp_path / "plain.png") is None


def test_timeline_closes_gaps_and_keeps_spacing():
    times = tuple(np.arange(10) * 0.04)
    line = timeline(times, Fraction(25), [0, 1, 2, 6, 7])
    assert line.times is None and abs(line.length - 0.2) < 1e-9  # steady: written at the rate
    assert [(round(s.start, 2), round(s.end, 2), round(s.at, 2)) for s in line.spans] == [(0, 0.12, 0), (0.24, 0.32, 0.12)]
