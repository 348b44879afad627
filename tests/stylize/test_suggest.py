"""Keyframe suggestions: coverage along the optical flow, greedy choice, the sheet and the command."""

import json

import numpy as np
import pytest
from conftest import moving_frames

from reanimate.io.flow import compute_flow
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.stylize.suggest import suggest_keyframes


def write(path, frames):
    with FrameWriter(path, fps=25) as writer:
        for frame in frames:
            writer.write(frame)
    return open_video(path)


@pytest.fixture
def cut_clip(tmp_path):
    """Two shots of 10 frames, of unrelated textures: one key cannot cover both."""
    first = moving_frames(count=10, height=64, width=96, seed=1)
    second = [255 - f for f in moving_frames(count=10, height=64, width=96, seed=2)[::-1]]
    return write(tmp_path / "cut.mp4", first + second)


def test_one_key_covers_a_single_moving_shot(tmp_path):
    video = write(tmp_path / "pan.mp4", moving_frames(count=10, height=64, width=96))
    suggestion = suggest_keyframes(video, compute_flow(video, tmp_path / "flow", show_progress=False),
                                   show_progress=False)
    assert suggestion.count == 1 and suggestion.coverage[0] > 0.8


def test_a_scene_cut_needs_a_key_on_each_side(tmp_path, cut_clip):
    flow = compute_flow(cut_clip, tmp_path / "flow", show_progress=False)
    suggestion = suggest_keyframes(cut_clip, flow, show_progress=False)
    assert suggestion.count == 2
    first, second = suggestion.chosen
    assert first < 10 <= second
    assert suggestion.coverage[0] < 0.6 < 0.8 < suggestion.coverage[1]
    assert suggestion.coverage == sorted(suggestion.coverage)  # nested: each key adds
    assert min(suggestion.per_frame[1]) > 0.5


def test_the_command_prints_json_and_writes_the_sheet(tmp_path, cut_clip):
    from tests.cli.test_stylize import reanimate

    sheet = tmp_path / "keys.png"
    result = reanimate("keyframes", cut_clip.path, "--count", "3", "--sheet", sheet, "--json", "-q")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["count"] == 3 and len(data["keys"]) == 3 and data["sheet"] == str(sheet)
    assert (tmp_path / "keys-run" / "flow" / "flow.json").is_file()
    from reanimate.io.image import read_image

    image = read_image(sheet, "sheet")
    assert image.shape[1] >= 480 and image.std() > 10
    text = reanimate("keyframes", cut_clip.path, "--sheet", sheet, "-q")
    assert "paint frames" in text.stdout and "coverage with 1, 2, ... keys" in text.stdout, text.stderr
    assert np.isclose(float(text.stdout.split("cover ")[1].split("%")[0]) / 100,
                      data["coverage"][1], atol=0.01)  # the default count is 2 here
