"""`reanimate faces ...` from the command line: outputs, summaries and one-line errors."""

import json

import numpy as np

from cli.test_stylize import reanimate
from reanimate.io.image import read_image
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video


def test_landmarks_to_json_and_overlay(tmp_path):
    clip = sample_clip("carphone_pristine")
    result = reanimate("faces", "landmarks", clip, "--out", tmp_path / "lm.json", "--overlay", tmp_path / "ov.mp4", "-q")
    assert result.returncode == 0, result.stderr
    assert "face found in" in result.stdout
    data = json.loads((tmp_path / "lm.json").read_text())
    assert (data["width"], data["height"], len(data["frames"])) == (176, 144, 120)
    assert sum(f["found"] for f in data["frames"]) >= 108
    assert len(next(f for f in data["frames"] if f["found"])["points"]) == 68
    assert len(open_video(tmp_path / "ov.mp4")) == 120
    again = reanimate("faces", "landmarks", clip, "--out", tmp_path / "lm.json", "-q")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_landmarks_npz(tmp_path):
    result = reanimate("faces", "landmarks", sample_clip("carphone_pristine"), "--out", tmp_path / "lm.npz", "-q")
    assert result.returncode == 0, result.stderr
    with np.load(tmp_path / "lm.npz") as data:
        assert data["points"].shape == (120, 68, 2) and data["found"].dtype == bool


def test_synth_then_show(tmp_path):
    result = reanimate("faces", "synth", "--identities", "2", "--frames", "5", "--size", "64", "--out",
                       tmp_path / "syn", "--json", "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["frames_with_face"] == 10
    shown = reanimate("faces", "show", tmp_path / "syn", "--out", tmp_path / "sheet.png", "--frames", "2", "--cell", "48")
    assert shown.returncode == 0, shown.stderr
    sheet = read_image(tmp_path / "sheet.png")
    assert sheet.shape[1] > 6 * 48 and sheet.shape[0] > 2 * 48


def test_faces_errors_are_one_line(tmp_path):
    for args in (["faces", "landmarks", sample_clip("carphone_pristine")],
                 ["faces", "show", tmp_path, "--out", tmp_path / "s.png"],
                 ["faces", "prepare", tmp_path / "missing", "--out", tmp_path / "faces"],
                 ["faces", "landmarks", tmp_path / "missing.mp4", "--out", tmp_path / "x.npz"]):
        result = reanimate(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
