"""Layers a compositor takes: frames with an alpha channel and 16 bits a channel, written to ProRes
4444, FFV1 and PNG / TIFF sequences, read back with PyAV and OpenCV."""

import av
import cv2
import numpy as np
import pytest

from reanimate.core.errors import UserError
from reanimate.io.writer import FrameWriter, check_alpha_output, check_output_free

from media import moving  # tests/media.py


def layer(count: int = 3) -> list[np.ndarray]:
    """RGBA frames: moving pictures, opaque in a square, transparent elsewhere."""
    frames = []
    for picture in moving(count):
        alpha = np.zeros(picture.shape[:2], np.uint8)
        alpha[8:24, 8:24] = 255
        frames.append(np.dstack([picture, alpha]))
    return frames


def first_frame(path, layout: str) -> np.ndarray:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format=layout)


@pytest.mark.parametrize("suffix, name", [(".mov", "ProRes 4444"), (".mkv", "FFV1 (lossless RGBA)")])
def test_a_layer_with_alpha_keeps_it_in_video(tmp_path, suffix, name):
    frames = layer()
    with FrameWriter(tmp_path / f"layer{suffix}", fps=25) as writer:
        for frame in frames:
            writer.write(frame)
    back = first_frame(tmp_path / f"layer{suffix}", "rgba")
    assert back[..., 3][8:24, 8:24].min() >= 254 and back[..., 3][:8].max() <= 1  # alpha 0 where it was 0
    error = np.abs(back[..., :3].astype(int) - frames[0][..., :3])
    assert error.max() == 0 if suffix == ".mkv" else error.mean() < 2
    assert writer.written.format.startswith(name)


def test_a_layer_with_alpha_in_png_and_tiff_frames(tmp_path):
    frames = layer(2)
    for out in (tmp_path / "png" / "shot.%04d.png", tmp_path / "tif" / "shot.####.tif", tmp_path / "folder"):
        with FrameWriter(out, fps=25) as writer:
            for frame in frames:
                writer.write(frame)
        first = sorted((out.parent if "%" in out.name or "#" in out.name else out).iterdir())[0]
        back = cv2.cvtColor(cv2.imread(str(first), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA)
        assert np.array_equal(back, frames[0])
        assert "with alpha" in writer.written.format


def test_sixteen_bit_frames_keep_their_depth(tmp_path):
    ramp = (np.linspace(0, 65535, 64)[None, :, None] * np.ones((32, 1, 3))).astype(np.uint16)
    with FrameWriter(tmp_path / "deep" / "shot.%04d.png", fps=25) as writer:
        writer.write(ramp)
    back = cv2.imread(str(tmp_path / "deep" / "shot.0000.png"), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and np.array_equal(back[..., ::-1], ramp)
    assert writer.written.format == "PNG images, 16-bit"
    with FrameWriter(tmp_path / "deep.mkv", fps=25) as writer:
        writer.write(ramp)
    assert np.array_equal(first_frame(tmp_path / "deep.mkv", "rgb48le"), ramp)  # FFV1 16-bit: lossless
    with FrameWriter(tmp_path / "deep.mov", fps=25) as writer:
        writer.write(ramp)
    finer = np.abs(first_frame(tmp_path / "deep.mov", "rgb48le").astype(int) - ramp).mean()
    assert finer < 257 / 2  # ProRes keeps 10 bits: closer than one 8-bit step
    with FrameWriter(tmp_path / "deep.mp4", fps=25) as writer:  # H.264 is 8-bit: rounded, not refused
        writer.write(ramp)
    assert np.abs(first_frame(tmp_path / "deep.mp4", "rgb24").astype(int) - ramp // 257).mean() < 2


def test_alpha_is_refused_where_the_format_has_none(tmp_path):
    for out in ("layer.mp4", "layer.gif", "layer.webm"):
        with pytest.raises(UserError, match="no alpha"):
            check_alpha_output(str(tmp_path / out))
    for out in ("layer.mov", "layer.mkv", "shot.%04d.png", "frames"):
        check_alpha_output(str(tmp_path / out))
    with pytest.raises(UserError, match="no alpha"), FrameWriter(tmp_path / "late.mp4", fps=25) as writer:
        writer.write(layer(1)[0])
    assert not (tmp_path / "late.mp4").exists()


def test_frames_of_another_kind_are_refused(tmp_path):
    with pytest.raises(ValueError, match="all alike"), FrameWriter(tmp_path / "mixed.mkv", fps=25) as writer:
        writer.write(moving(1)[0])
        writer.write(layer(1)[0])
    with pytest.raises(ValueError, match="uint8 or uint16"), FrameWriter(tmp_path / "f.mkv", fps=25) as writer:
        writer.write(moving(1)[0].astype(np.float32))
    assert not (tmp_path / "mixed.mkv").exists()


def test_a_sequence_over_existing_frames_is_refused_before_any_work(tmp_path):
    (tmp_path / "shot.1001.png").write_bytes(b"graded")
    with pytest.raises(UserError, match="shot.1001.png already exists"):
        check_output_free(tmp_path / "shot.%04d.png", overwrite=False)
    with pytest.raises(UserError, match="already exists"):
        FrameWriter(tmp_path / "shot.####.png", fps=25)
    check_output_free(tmp_path / "other.%04d.png", overwrite=False)
    check_output_free(tmp_path / "shot.%04d.png", overwrite=True)
    assert (tmp_path / "shot.1001.png").read_bytes() == b"graded"


def test_prores_alpha_is_exact_at_any_height(tmp_path):
    # swscale garbles some rows' alpha going to yuva444p10le (about one frame in two at 270 px high).
    rng = np.random.default_rng(0)
    frames = [np.dstack([rng.integers(0, 256, (270, 50, 3), dtype=np.uint8),
                         np.where(np.arange(50) < 25, 255, 0).astype(np.uint8)[None].repeat(270, 0)])
              for _ in range(6)]
    with FrameWriter(tmp_path / "tall.mov", fps=25) as writer:
        for frame in frames:
            writer.write(frame)
    with av.open(str(tmp_path / "tall.mov")) as container:
        for frame, back in zip(frames, container.decode(video=0)):
            assert np.abs(back.to_ndarray(format="rgba")[..., 3].astype(int) - frame[..., 3]).max() <= 1
