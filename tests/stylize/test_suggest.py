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


def test_painted_keys_that_cover_little_hear_which_frames_to_paint_too(tmp_path):
    from reanimate.stylize.suggest import key_coverage

    shots = [moving_frames(count=10, height=64, width=96, seed=1),
             [255 - f for f in moving_frames(count=10, height=64, width=96, seed=2)[::-1]],
             [np.ascontiguousarray(f[:, ::-1, ::-1]) for f in moving_frames(count=10, height=64, width=96, seed=3)]]
    video = write(tmp_path / "three.mp4", shots[0] + shots[1] + shots[2])
    flow = compute_flow(video, tmp_path / "flow", show_progress=False)
    found = key_coverage(video, flow, [0], show_progress=False)
    assert 0.2 < found.share < 0.45
    assert sorted(k // 10 for k in found.more) == [1, 2]  # one frame in each shot the key does not reach
    assert found.with_more > 0.8
    hint = found.hint()
    assert hint.startswith(f"the key covers {found.share:.0%} of the video")
    assert f"painting frames {min(found.more)} and {max(found.more)} too would cover {found.with_more:.0%}" in hint
    # painted in every shot: nothing to say
    assert key_coverage(video, flow, [0, 15, 25], show_progress=False).hint() is None


def test_stylize_says_so_before_training(tmp_path, cut_clip):
    from tests.cli.test_stylize import TINY, reanimate
    from reanimate.io.image import write_png

    write_png(tmp_path / "painted.png", 255 - cut_clip.read(0))
    result = reanimate("stylize", cut_clip.path, "--key", f"0={tmp_path / 'painted.png'}", "--out", tmp_path / "o.mp4",
                       "--iterations", "1", *[a for a in TINY if a != "-q"])
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert "the key covers" in said and "painting frame" in said
    assert said.index("the key covers") < said.index("network: preset")  # before the training
