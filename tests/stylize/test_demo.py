"""The demo on a real clip: it paints the suggested keys, trains, restyles, and beats the input."""

import json

import pytest

from reanimate.io.video import open_video
from reanimate.stylize.demo import sheet_frames


def test_sheet_frames_spread_over_the_video_and_skip_the_keys():
    assert sheet_frames(120, {0, 60}) == [1, 30, 61, 89, 119]
    assert sheet_frames(7, {0, 1, 6}) == [2, 3, 4, 5]  # only four frames are free


@pytest.mark.slow
def test_the_demo_paints_the_suggested_keys_and_learns(tmp_path):
    from tests.cli.test_stylize import reanimate

    out = tmp_path / "demo"
    result = reanimate("demo", "--clip", "carphone_pristine", "--out", out, "--iterations", "150", "--device",
                       "cpu", "-q")
    assert result.returncode == 0, result.stderr
    scores = json.loads((out / "scores.json").read_text())
    assert 2 <= len(scores["keys"]) <= 3 and not set(scores["keys"]) & {int(i) for i in scores["frames"]}
    assert all((out / f"keyframe-{k}.png").is_file() for k in scores["keys"])
    assert (out / "keyframes.png").is_file() and (out / "contact-sheet.png").is_file()
    assert len(open_video(out / "stylized.mp4")) == 120
    assert scores["held_out_mean_psnr"] > scores["held_out_mean_input_psnr"] + 2
