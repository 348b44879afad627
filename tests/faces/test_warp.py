"""The face warp, motion modes and paste-back on a real face (carphone) and on exact synthetic points."""

import cv2
import numpy as np
import pytest

from reanimate.core.errors import UserError
from reanimate.faces.align import Crop, face_box
from reanimate.faces.motion import drive
from reanimate.faces.paste import head_mask, paste_back
from reanimate.faces.shots import MARGIN, find_shots
from reanimate.faces.mouth import mouth_opening
from reanimate.faces.warp import FaceWarp, _signed_areas, background_points
from reanimate.io.image import write_png


@pytest.fixture(scope="module")
def face(carphone_frames, carphone_track):
    """A 128 px crop of the real man at frame 30, and its landmarks in the crop."""
    crop = Crop(*face_box(carphone_track.points[30], MARGIN), 128)
    return crop.warp(carphone_frames[30]), crop.apply(carphone_track.points[30])


def test_warp_to_its_own_landmarks_changes_nothing(face):
    image, points = face
    result = FaceWarp(image, points)(points)
    assert not result.folds_clamped
    assert np.abs(result.image.astype(int) - image).mean() < 1.0


def test_warp_moves_the_face_and_keeps_the_border_still(face):
    image, points = face
    target = points + [6.0, -4.0]  # the whole face moves right and up
    warped = FaceWarp(image, points)(target).image
    # A face pixel is found where its landmark went ...
    x, y = np.round(points[30]).astype(int)  # the nose tip
    tx, ty = np.round(target[30]).astype(int)
    assert np.abs(warped[ty, tx].astype(int) - image[y, x]).max() < 25
    # ... while the frame's border, pinned, does not move.
    assert np.array_equal(warped[0], image[0]) and np.array_equal(warped[:, 0], image[:, 0])


def test_the_background_beyond_the_head_holds_still_and_a_large_move_folds_nothing(face):
    image, points = face
    # The face in the middle of a wide picture: the border is far, as in a real portrait.
    photo = cv2.copyMakeBorder(image, 192, 192, 192, 192, cv2.BORDER_REFLECT)
    points = points + 192
    warp = FaceWarp(photo, points)
    still = background_points(points)
    beyond = np.round(points[27] + 1.15 * (still[len(still) // 2] - points[27])).astype(int)  # above the head
    control, clamped = warp.safe_target(points + [6.0, -4.0])
    map_x, map_y = warp.maps(control)
    x, y = beyond
    assert not clamped
    assert abs(map_x[y, x] - x) < 0.5 and abs(map_y[y, x] - y) < 0.5  # read from where it is: still
    nose = np.round(points[30] + [6.0, -4.0]).astype(int)
    assert abs(map_x[nose[1], nose[0]] - points[30, 0]) < 1.0  # the face itself moved
    # A move larger than the band between the head and the still ring drags the ring along instead
    # of turning the band over (which would drop the expression).
    control, clamped = warp.safe_target(points + [60.0, 0.0])
    assert not clamped and not warp.folds(control)


def test_an_impossible_target_is_clamped_instead_of_folding(face):
    image, points = face
    target = points.copy()
    target[36:48] = target[36:48][::-1]  # the eyes swap sides: triangles would turn inside out
    warp = FaceWarp(image, points)
    control, clamped = warp.safe_target(target)
    assert clamped and not warp.folds(control)
    assert (_signed_areas(control, warp.triangles) * np.sign(warp.source_areas) > 0).all()


def test_a_closed_mouth_opens_without_being_clamped(face):
    image, points = face
    closed = points.copy()
    middle = 0.5 * (closed[[61, 62, 63]] + closed[[67, 66, 65]])
    # Shut lips as dlib often reads them: the lower inner lip a hair above the upper one.
    closed[[61, 62, 63]], closed[[67, 66, 65]] = middle + [0, 0.3], middle - [0, 0.3]
    target = closed.copy()
    target[[65, 66, 67, 56, 57, 58]] += [0, 6.0]  # the jaw drops: the mouth opens
    warp = FaceWarp(image, closed)
    control, clamped = warp.safe_target(target)
    assert not clamped  # the shut mouth's slivers turning over is no fold: the expression is kept whole
    assert mouth_opening(control[:68]) > 0.9 * mouth_opening(target)


def test_motion_modes(face):
    _, source = face
    rng = np.random.default_rng(0)
    driver = source[None] * 1.1 + rng.normal(0, 1, (5, 68, 2)).astype(np.float32)
    assert np.array_equal(drive(driver, source[None], "absolute"), driver)
    still = np.repeat(driver[:1], 3, 0)
    assert np.allclose(drive(still, source[None], "relative"), source, atol=1e-3)  # no change: the source itself
    assert not np.allclose(drive(driver, source[None], "relative")[1], source, atol=0.1)
    with pytest.raises(UserError, match="`motion` 'sideways'"):
        drive(driver, source[None], "sideways")


def test_relative_motion_measures_the_expression_from_the_drivers_rest(face):
    """A driver that starts mid-word: its closed-lip frames leave a closed-lip photo as it is, and its
    start opens the photo's mouth (measured from its first frame, the mouth could only close)."""
    _, source = face
    lower_lip = [56, 57, 58, 65, 66, 67]
    frames = np.repeat(source[None] * 1.2 + [5.0, 3.0], 30, 0)  # another size and place than the source
    frames[0, lower_lip] += [0, 8]  # the first frame: the mouth half open
    frames[15:18, lower_lip] += [0, 16]  # a few frames wide open
    moved = drive(frames, source[None], "relative")
    assert np.allclose(moved[5], source, atol=1e-3)  # closed as the photo: the photo unchanged
    assert mouth_opening(moved[0]) > mouth_opening(source) + 0.03
    assert mouth_opening(moved[16]) > mouth_opening(moved[0]) + 0.03
    # Frames given one at a time measure from the reference they come with.
    assert np.allclose(drive(frames[:1], source[None], "relative", frames[0])[0], source, atol=1e-3)


def test_mouth_opening_grows_with_the_gap(face):
    _, points = face
    opened = points.copy()
    opened[[65, 66, 67, 56, 57, 58]] += [0, 8]  # the lower lip drops
    assert mouth_opening(opened) > mouth_opening(points) + 0.05


def test_paste_back_leaves_the_frame_alone_outside_the_mask(carphone_frames, carphone_track):
    frame, points = carphone_frames[30], carphone_track.points[30]
    crop = Crop(*face_box(points, MARGIN), 96)
    face = np.full((96, 96, 3), 255, np.uint8)  # a white "face": easy to find
    mask = head_mask([crop.apply(points)], 96)
    out = paste_back(frame, face, crop, mask)
    assert out.shape == frame.shape
    inverse_mask = paste_back(np.zeros_like(frame), np.full_like(face, 255), crop, mask)[..., 0]
    outside = inverse_mask == 0
    assert outside.mean() > 0.5 and np.array_equal(out[outside], frame[outside])
    nose = np.round(points[30]).astype(int)
    assert (out[nose[1], nose[0]] > 240).all()  # inside: the pasted face


def test_shots_choose_among_several_faces(tmp_path, detector, carphone_frames):
    big = carphone_frames[30]
    small = cv2.resize(big[:, ::-1], (132, 108), interpolation=cv2.INTER_AREA)  # mirrored, 3/4 the size
    two = np.zeros((144, 176 + 132, 3), np.uint8)
    two[:, :176], two[:108, 176:] = big, small
    write_png(tmp_path / "two.png", two)
    with pytest.raises(UserError, match=r"two.png shows 2 faces \(0: .*choose one with `face` N"):
        find_shots([tmp_path / "two.png"], None, detector)
    largest = find_shots([tmp_path / "two.png"], None, detector, face=0)[0]
    other = find_shots([tmp_path / "two.png"], None, detector, face=1)[0]
    assert largest.points[:, 0].max() < 176 < other.points[:, 0].min()
    with pytest.raises(UserError, match="`face` 2 but .* shows 2 face"):
        find_shots([tmp_path / "two.png"], None, detector, face=2)
    with pytest.raises(UserError, match="does not exist"):
        find_shots([tmp_path / "nope.png"], None, detector)
