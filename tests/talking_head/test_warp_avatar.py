"""The training-free warp path on a real face: self-reenactment on carphone (real footage)."""

import json

import numpy as np
import pytest

from reanimate.io.writer import FrameWriter
from reanimate.talking_head.reenact import format_reenact_table, reenact
from reanimate.talking_head.warp_avatar import WarpAvatar


@pytest.mark.slow
def test_the_warp_follows_the_driver_better_than_copying_a_shot(tmp_path, carphone_frames):
    with FrameWriter(tmp_path / "talk.mp4", fps=25) as writer:  # 40 frames: 20 for shots, 20 driven
        for frame in carphone_frames[40:80]:
            writer.write(frame)
    result = reenact(tmp_path / "talk.mp4", shots=8, size=128, out=tmp_path / "eval", show_progress=False)
    rows = {row["method"]: row for row in result["rows"]}
    copy, warp = rows["copy (first shot)"], rows["warp"]
    assert result["frames"] == 20
    assert warp["ssim"] > copy["ssim"] + 0.05  # the benchmark's target, 0.10, is on the whole clip at 256 px
    assert warp["landmark_error"] < 0.5 * copy["landmark_error"]  # the face goes where the driver's went
    assert warp["csim"] > copy["csim"] - 0.01  # and stays the same man
    # dlib finds the face again in the result; at 128 px it misses the true frames' own screaming face
    # too (2 of these 20), so the odd miss is the detector's, not the warp's.
    assert warp["found"] >= 0.85
    assert json.loads((tmp_path / "eval" / "reenact.json").read_text())["rows"][2]["method"] == "warp"
    assert (tmp_path / "eval" / "reenact-sheet.png").stat().st_size > 10_000
    assert "warp" in format_reenact_table(result)


def test_shot_choice_holds_until_another_is_clearly_nearer():
    rng = np.random.default_rng(0)
    base = rng.uniform(20, 100, (68, 2)).astype(np.float32)
    other = base.copy()
    other[48:68] += [0, 6]  # the same face with the mouth lower
    crops = [np.zeros((128, 128, 3), np.uint8)] * 2
    avatar = WarpAvatar(crops, np.stack([base, other]))
    assert avatar.choose(base) == 0
    assert avatar.choose(base + (other - base) * 0.45) == 0  # about halfway: no switch (no flicker)
    assert avatar.choose(other) == 1


def test_live_puppet_follows_camera_frames(carphone_frames, detector):
    from reanimate.faces.shots import Shot
    from reanimate.talking_head.live import LivePuppet

    points = detector.track(carphone_frames[5:6]).points[0]
    puppet = LivePuppet([Shot(carphone_frames[5], points, "frame 5")], 128, "relative", detector)
    blank = np.full_like(carphone_frames[0], 90)
    assert np.array_equal(puppet(blank), carphone_frames[5])  # no face seen yet: the photo itself
    first = puppet(carphone_frames[60])
    later = puppet(carphone_frames[75])
    assert first.shape == later.shape == carphone_frames[5].shape
    assert np.abs(first.astype(int) - carphone_frames[5]).mean() < 3  # relative: the first frame is the start
    assert np.abs(later.astype(int) - first).mean() > 2  # then the photo moves with the camera
