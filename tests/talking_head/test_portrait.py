"""The whole photo moves: the head follows the driver in the frame, expressions come at full size."""

import numpy as np
import pytest

from reanimate.faces.motion import drive
from reanimate.faces.shots import Shot
from reanimate.faces.warp import RIGID, similarity
from reanimate.talking_head.portrait import Portrait, stage_box


@pytest.fixture(scope="module")
def portrait(carphone_frames, carphone_track):
    return Portrait([Shot(carphone_frames[30], carphone_track.points[30], "frame 30")], 128)


def test_the_head_moves_in_the_frame_and_the_border_holds(portrait, carphone_frames):
    frame = carphone_frames[30]
    still = portrait.render(portrait.shot_points[0])
    assert np.abs(still.astype(int) - frame).mean() < 1.0  # its own landmarks: the photo itself
    shift = np.float32([10, 0])  # crop pixels: about 14 photo pixels to the right
    moved = portrait.render(portrait.shot_points[0] + shift)
    nose = np.round(portrait.reference.points[30]).astype(int)
    step = int(round(shift[0] / portrait.crop.scale))
    patch = lambda image, x: image[nose[1] - 4:nose[1] + 5, x - 4:x + 5].astype(int)  # noqa: E731
    assert np.abs(patch(moved, nose[0] + step) - patch(frame, nose[0])).mean() < 12  # the nose went along
    assert np.abs(patch(moved, nose[0] + step) - patch(frame, nose[0] + step)).mean() > 15
    assert np.array_equal(moved[0], frame[0]) and np.array_equal(moved[:, -1], frame[:, -1])  # pinned border
    # In layers: the background beyond the person (as found, and as moved) holds exactly.
    alpha = portrait.stage(portrait.to_stage(portrait.shot_points[0] + shift)).alpha
    x0, y0, x1, y1 = portrait.box
    beyond = (portrait.layers.alpha == 0) & (alpha == 0)
    inside = moved[y0:y1, x0:x1], frame[y0:y1, x0:x1]
    assert beyond.mean() > 0.2 and np.array_equal(inside[0][beyond], inside[1][beyond])


def test_a_large_photo_moves_only_its_stage(carphone_frames, carphone_track):
    big = np.zeros((600, 900, 3), np.uint8)
    big[200:344, 300:476] = carphone_frames[30]
    points = carphone_track.points[30] + [300, 200]
    portrait = Portrait([Shot(big, points, "big")], 128)
    x0, y0, x1, y1 = stage_box(portrait.reference)
    assert 0 < x0 and x1 < 900 and 0 < y0 and y1 < 600  # about four face sizes, not the whole picture
    moved = portrait.render(portrait.shot_points[0] + [8, 4])
    outside = np.ones(big.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(moved[outside], big[outside]) and not np.array_equal(moved, big)


def test_relative_motion_carries_head_moves_and_expressions_at_full_size(carphone_track):
    source = carphone_track.points[30]
    first = carphone_track.points[60] * 1.3 + [20, -10]  # another person: larger, elsewhere
    turn = np.deg2rad(10)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]], np.float32)
    centre = first[RIGID].mean(0)
    opened = first.copy()
    opened[[56, 57, 58, 65, 66, 67]] += [0, 6.5]  # the driver's lower lip drops by 5 % of its face
    turned = (opened - centre) @ rotation.T + centre + [13, 0]  # and its head rolls 10 degrees and shifts
    targets = drive(np.stack([first, turned]), source[None], "relative")
    assert np.allclose(targets[0], source, atol=1e-3)
    scale, rot, _ = similarity(source[RIGID], targets[1][RIGID])
    assert np.isclose(np.degrees(np.arctan2(rot[1, 0], rot[0, 0])), 10, atol=0.5) and np.isclose(scale, 1, atol=0.02)
    size = lambda p: np.ptp(p[RIGID], axis=0).max()  # noqa: E731
    assert np.isclose((targets[1][RIGID].mean(0) - source[RIGID].mean(0))[0] / size(source), 13 / size(first),
                      rtol=0.1)  # the shift, in face sizes
    back = (targets[1] - targets[1][RIGID].mean(0)) @ rot + source[RIGID].mean(0)  # the roll undone
    drop = (back[66] - source[66])[1] / size(source)
    assert np.isclose(drop, 6.5 / size(first), rtol=0.1)  # the mouth opened at full size, in face sizes


def test_a_wink_the_landmarks_read_as_a_third_open_shuts_the_lid(carphone_track):
    from reanimate.faces.eyes import eye_opening

    source, first = carphone_track.points[30], carphone_track.points[60]
    wink = first.copy()
    for upper, lower in ((37, 41), (38, 40)):  # the left eye down to 30 % of its height, the right one as is
        mid = 0.5 * (wink[upper] + wink[lower])
        wink[upper], wink[lower] = mid + 0.3 * (wink[upper] - mid), mid + 0.3 * (wink[lower] - mid)
    target = drive(np.stack([first, wink]), source[None], "relative")[1]
    assert eye_opening(target, 0) < 0.02 * eye_opening(source, 0) + 1e-3  # shut
    assert np.isclose(eye_opening(target, 1), eye_opening(source, 1), rtol=0.1)  # the other one open


def test_without_layers_the_stage_moves_as_one_picture(carphone_frames, carphone_track):
    frame = carphone_frames[30]
    flat = Portrait([Shot(frame, carphone_track.points[30], "frame 30")], 128, layers=False)
    assert flat.layers is None and flat.stage(flat.to_stage(flat.shot_points[0])).alpha is None
    moved = flat.render(flat.shot_points[0] + [10, 0])
    layered = Portrait([Shot(frame, carphone_track.points[30], "frame 30")], 128).render(flat.shot_points[0] + [10, 0])
    assert moved.shape == frame.shape and np.abs(moved.astype(int) - layered).mean() > 0.5
