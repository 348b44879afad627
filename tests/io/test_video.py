import numpy as np
import pytest

from reanimate.core.errors import UserError
from reanimate.io.video import VideoTooLong, open_video, parse_frame_list
from reanimate.io.writer import FrameWriter


def test_folder_is_sorted_naturally_and_names_outputs(tmp_path, frames):
    folder = tmp_path / "f"
    folder.mkdir()
    from reanimate.io.image import write_png
    for i, frame in enumerate(frames):
        write_png(folder / f"frame_{i * 5}.png", frame)  # frame_10 must come after frame_5
    video = open_video(folder)
    assert len(video) == len(frames) and video.size == (50, 38)
    assert [p.name for p in video.files][:3] == ["frame_0.png", "frame_5.png", "frame_10.png"]
    assert np.array_equal(video.read(2), frames[2])
    assert video.frame_name(2) == "frame_10.png"


def test_mp4_round_trip_keeps_count_size_and_fps(tmp_path, frames):
    out = tmp_path / "v.mp4"
    with FrameWriter(out, fps=29.97) as writer:
        for frame in frames:
            writer.write(frame)
    video = open_video(out)
    assert (len(video), video.width, video.height) == (len(frames), 50, 38)
    assert abs(video.fps - 29.97) < 0.01
    decoded = video.read(3).astype(int)
    assert np.abs(decoded - frames[3]).mean() < 20  # lossy 4:2:0 on a tiny frame, but the same picture


def test_mp4_keeps_colours(tmp_path):
    colours = [(200, 30, 30), (30, 200, 30), (20, 40, 220), (128, 128, 128)]
    with FrameWriter(tmp_path / "c.mp4", fps=25) as writer:
        for colour in colours:
            writer.write(np.full((32, 32, 3), colour, np.uint8))
    for (index, frame), colour in zip(open_video(tmp_path / "c.mp4").frames(), colours):
        assert np.abs(frame[16, 16].astype(int) - colour).max() <= 4, index  # no RGB/BGR or range mix-up


def test_odd_sized_frames_are_written(tmp_path):
    out = tmp_path / "odd.mp4"
    with FrameWriter(out, fps=10) as writer:
        writer.write(np.zeros((21, 33, 3), np.uint8))
    assert open_video(out).num_frames == 1


def test_selected_frames_in_any_order(clip_mp4):
    video = open_video(clip_mp4)
    got = video.read_many([4, 1])
    assert sorted(got) == [1, 4]
    with pytest.raises(UserError, match="out of range"):
        video.read(99)


def test_interrupted_writer_leaves_nothing(tmp_path, frames):
    out = tmp_path / "v.mp4"
    with pytest.raises(KeyboardInterrupt):
        with FrameWriter(out, fps=25) as writer:
            writer.write(frames[0])
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_refused(tmp_path):
    (tmp_path / "v.mp4").write_bytes(b"x")
    with pytest.raises(UserError, match="`overwrite`"):
        FrameWriter(tmp_path / "v.mp4", fps=25)


@pytest.mark.parametrize("content", [b"", b"not a video at all"])
def test_corrupt_video_is_a_clear_error(tmp_path, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(UserError, match="bad.mp4"):
        open_video(bad)


def test_missing_and_empty_inputs(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        open_video(tmp_path / "nope.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no images"):
        open_video(tmp_path / "empty")


def test_frame_list_parsing():
    assert parse_frame_list("0-3,7,2", 10) == [0, 1, 2, 3, 7]
    assert parse_frame_list(None, 3) == [0, 1, 2]
    for bad in ("5-2", "x", "0-10"):
        with pytest.raises(UserError):
            parse_frame_list(bad, 10)


@pytest.mark.parametrize("extension", [".mkv", ".mov", ".webm", ".gif", ".avi"])
def test_other_containers_round_trip(tmp_path, extension):
    out = tmp_path / f"v{extension}"
    with FrameWriter(out, fps=12.5) as writer:
        for i in range(4):
            writer.write(np.full((30, 40, 3), i * 60, np.uint8))
    video = open_video(out)
    assert (video.num_frames, video.size) == (4, (40, 30)) and abs(video.fps - 12.5) < 0.01


def test_a_frame_limit_refuses_longer_videos_and_folders(clip_mp4, frame_folder, frames):
    for path in (clip_mp4, frame_folder):
        assert len(open_video(path, max_frames=len(frames))) == len(frames)
        with pytest.raises(VideoTooLong, match=f"more than {len(frames) - 1} frames"):
            open_video(path, max_frames=len(frames) - 1)
