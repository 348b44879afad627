"""The layer's alpha: keyframe masks carried along the optical flow to every frame."""

import numpy as np

from reanimate.io.flow import compute_flow
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.stylize.data import Keyframe
from reanimate.stylize.matte import Matte, with_alpha

from conftest import moving_frames


def square(width: int, height: int, left: int) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    mask[16:40, left:left + 24] = True
    return mask


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_a_mask_follows_what_it_covered_both_ways_in_time(tmp_path):
    frames = moving_frames(count=12, height=60, width=96)  # the picture moves 2 px left a frame
    with FrameWriter(tmp_path / "clip", fps=25) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, f"{i:02d}.png")
    video = open_video(tmp_path / "clip")
    flow = compute_flow(video, tmp_path / "flow", show_progress=False)
    key = Keyframe(5, frames[5], frames[5], square(96, 60, 36))
    matte = Matte([key, Keyframe(11, frames[11], frames[11])], flow, video.size)
    for index in (5, 6, 7, 8):  # forward from key 5, one step a frame
        alpha = matte(index)
        assert alpha.dtype == np.uint8 and alpha.shape == (60, 96)
        assert iou(alpha >= 128, square(96, 60, 36 - 2 * (index - 5))) > 0.8, index
    for index in (0, 2, 4, 3):  # before the key: the run back is made once
        assert iou(matte(index) >= 128, square(96, 60, 36 + 2 * (5 - index))) > 0.8, index
    assert matte(9).min() == 255  # nearer the unmasked key 11: painted whole
    assert matte(5)[:, :20].max() == 0  # nothing where the mask was not


def test_a_layer_has_the_frames_depth():
    alpha = np.full((2, 3), 255, np.uint8)
    assert with_alpha(np.zeros((2, 3, 3), np.uint8), alpha).shape == (2, 3, 4)
    deep = with_alpha(np.zeros((2, 3, 3), np.uint16), alpha)
    assert deep.dtype == np.uint16 and deep[..., 3].max() == 65535
