"""The layer's alpha: keyframe masks carried along the optical flow to every frame."""

import numpy as np
import pytest

from reanimate.io.flow import compute_flow
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
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
    matte = Matte({5: square(96, 60, 36), 11: np.ones((60, 96), bool)}, flow, video.size)
    for index in (5, 6, 7, 8):  # forward from key 5, one step a frame
        alpha = matte(index)
        assert alpha.dtype == np.uint8 and alpha.shape == (60, 96)
        assert iou(alpha >= 128, square(96, 60, 36 - 2 * (index - 5))) > 0.8, index
    for index in (0, 2, 4, 3):  # before the key: the run back is made once
        assert iou(matte(index) >= 128, square(96, 60, 36 + 2 * (5 - index))) > 0.8, index
    assert matte(9).min() == 255  # nearer key 11, whose mask is the whole frame
    assert matte(5)[:, :20].max() == 0  # nothing where the mask was not


def test_a_layer_has_the_frames_depth():
    alpha = np.full((2, 3), 255, np.uint8)
    assert with_alpha(np.zeros((2, 3, 3), np.uint8), alpha).shape == (2, 3, 4)
    deep = with_alpha(np.zeros((2, 3, 3), np.uint16), alpha)
    assert deep.dtype == np.uint16 and deep[..., 3].max() == 65535


class Pan:
    """A flow field of a steady pan, `speed` px a frame to the left (the `io.flow.FlowField` interface)."""

    def __init__(self, speed: float, width: int = 64, height: int = 32):
        self.width, self.height, self.scale, self.speed = width, height, 1.0, speed

    def forward(self, t):  # frame t's pixels are found `speed` further left in frame t+1
        return np.dstack([np.full((self.height, self.width), -self.speed, np.float32),
                          np.zeros((self.height, self.width), np.float32)])

    def backward(self, t):
        return -self.forward(t)


@pytest.mark.parametrize("speed", [0.3, 0.7])
def test_slow_motion_adds_up_instead_of_rounding_away(speed):
    mask = np.zeros((32, 64), bool)
    mask[:, 32:] = True  # the right half
    matte = Matte({0: mask}, Pan(speed), (64, 32))
    for index in range(1, 21):
        alpha = matte(index)
    edge = np.argmax(alpha[16] >= 128)  # where the opaque half begins, 20 frames on
    assert abs(edge - (32 - 20 * speed)) <= 1, edge
