"""Lids that close as real ones do and a mouth inside in the photo's colours, on the real carphone face."""

import cv2
import numpy as np
import pytest

from reanimate.faces.align import Crop, face_box
from reanimate.faces.eyes import (EYE_POINTS, close_lids, closedness, eye_frame, lash_offsets, lash_rows,
                                  shut_line, to_eye)
from reanimate.faces.motion import resting_face
from reanimate.faces.mouth import close_lips, fill_mouth, mouth_opening
from reanimate.faces.shots import MARGIN
from reanimate.faces.warp import FaceWarp, polygon_mask


@pytest.fixture(scope="module")
def face(carphone_frames, carphone_track):
    """A 256 px crop of the real man at frame 30 (eyes about 30 px wide), and its landmarks in it."""
    crop = Crop(*face_box(carphone_track.points[30], MARGIN), 256)
    return crop.warp(carphone_frames[30]), crop.apply(carphone_track.points[30])


def shut(points: np.ndarray, eye: int = 0, towards: float = 0.8) -> np.ndarray:
    """`points` with one eye's upper lid brought down onto its lower lid (a real blink barely moves the lower)."""
    out = points.copy()
    for upper, lower in zip(EYE_POINTS[eye][1:3], EYE_POINTS[eye][5:3:-1]):
        out[upper] = out[lower] = (1 - towards) * out[upper] + towards * out[lower]
    return out


def test_a_shut_eyes_lash_line_is_an_arc_that_sags_as_the_photos_lower_lid_does(face):
    _, points = face
    target = shut(points, 0, towards=0.5)  # the lids meet about on the corners' line
    for amount in (0.0, 1.0):
        line = shut_line(target, points, 0, amount)
        uv = np.array([to_eye(target, 0, p) for p in line])
        assert np.allclose(line[[0, -1]], target[[36, 39]], atol=1e-3)  # corner to corner
        assert np.all(np.diff(uv[:, 0]) > 0)
        for upper, lower in ((37, 41), (38, 40)):
            meet = to_eye(target, 0, (target[upper] + target[lower]) / 2)
            at = np.interp(meet[0], uv[:, 0], uv[:, 1])
            if amount == 0.0:  # not shut: through where the lids meet
                assert at == pytest.approx(meet[1], abs=0.01)
            else:  # shut: down towards the photo's lower lid, below where the lids meet, not past it
                assert meet[1] + 0.02 < at < to_eye(points, 0, points[lower])[1]


def dark_rows(image: np.ndarray, x: int, y0: int, y1: int, level: float) -> int:
    """How many pixels of column `x` between rows y0 and y1 are darker than `level`."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return int((grey[y0:y1, x] < level).sum())


def test_a_closing_lid_brings_its_lash_line_down_whole(carphone_frames, carphone_track):
    crop = Crop(*face_box(carphone_track.points[30], MARGIN), 512)  # eyes about 60 px wide
    image, points = crop.warp(carphone_frames[30]).copy(), crop.apply(carphone_track.points[30])
    x = int(round(points[[37, 38]].mean(0)[0]))
    lid = int(round(points[[37, 38]].mean(0)[1]))
    image[lid - 13:lid - 1, x - 6:x + 7] = 0  # a 12 px black band of lashes just above the upper lid's points
    closed = FaceWarp(image, points)(shut(points)).image
    low = int(round(points[[40, 41]].mean(0)[1]))
    brow = int(round(points[[19, 20]].mean(0)[1]))
    assert dark_rows(image, x, brow, low + 3, 20) == 12
    # The band came down with the lid at its own width: a mesh without the lash rows stretches
    # everything between brow and lid, the band with it (15 px here).
    assert dark_rows(closed, x, brow, low + 3, 20) <= 13
    assert dark_rows(closed, x, lid, low + 3, 20) >= 6  # it moved down to where the lids meet


def test_lash_rows_sit_beyond_the_lids_and_under_the_brows(face):
    _, points = face
    offsets = lash_offsets(points)
    rows = lash_rows(points, offsets)
    for eye in (0, 1):
        down = eye_frame(points, eye)[2]
        above, below = rows[6 * eye:6 * eye + 4], rows[6 * eye + 4:6 * eye + 6]
        brow = points[list(range(17, 22) if eye == 0 else range(22, 27))].mean(0)
        assert ((above - points[EYE_POINTS[eye][:4]]) @ down < 0).all()  # above the upper lid and corners
        assert ((below - points[EYE_POINTS[eye][5:3:-1]]) @ down > 0).all()  # below the lower lid
        assert ((above - brow) @ down > 0).all()  # and never up in the brow
    same = lash_rows(points + [5.0, -3.0], offsets)
    assert np.allclose(same, rows + [5.0, -3.0], atol=1e-4)  # the rows move with the face


def painted_eyes(points: np.ndarray, size: int = 256) -> np.ndarray:
    """Skin (grey 170) with each eye of `points` painted open: white inside its lids, a dark iris, lashes
    along the upper lid."""
    image = np.full((size, size, 3), 170, np.uint8)
    for eye in (0, 1):
        lids = points[EYE_POINTS[eye]]
        cv2.fillPoly(image, [np.round(lids * 4).astype(np.int32)], (250, 250, 250), cv2.LINE_AA, shift=2)
        centre = lids.mean(0)
        cv2.circle(image, tuple(np.round(centre).astype(int)), max(2, int(0.35 * np.ptp(lids[:, 1]))), (40, 30, 20), -1)
        cv2.polylines(image, [np.round(lids[:4] * 4).astype(np.int32)], False, (20, 20, 20), 2, cv2.LINE_AA, shift=2)
    return image


def test_a_shut_eye_is_drawn_shut_and_an_open_one_is_left_alone(face):
    _, points = face
    image = painted_eyes(points)
    warp = FaceWarp(image, points)
    assert closedness(points, points, 0) == 0 and closedness(shut(points, towards=0.5), points, 0) == 1
    assert np.array_equal(close_lids(image, points, points), image)  # open eyes: nothing drawn
    target = shut(points)
    moved = warp(target).image
    drawn = close_lids(moved, target, points)
    size = image.shape[1::-1]
    band = cv2.dilate((polygon_mask(target[36:42], size) > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    grey = lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.float32)  # noqa: E731
    # The warp alone squeezes the white of the eye into the slit (an eye that still reads open) ...
    assert grey(moved)[band].max() > 220
    # ... the shut eye is skin along the slit, with one dark lash line where the lids meet.
    assert grey(drawn)[band].max() < 185
    meet = np.round((target[37] + target[41]) / 2).astype(int)
    assert grey(drawn)[meet[1] - 1:meet[1] + 2, meet[0]].min() < 120
    other = polygon_mask(points[EYE_POINTS[1]], size) > 0.5
    assert np.array_equal(drawn[other], moved[other])  # the open eye untouched


def test_a_drivers_shut_lid_is_laid_on_in_the_photos_colours_and_an_open_one_never(face):
    _, points = face
    image = painted_eyes(points)
    target = shut(points)
    moved = FaceWarp(image, points)(target).image
    inpainted = close_lids(moved, target, points)
    # A driver whose eye 0 is shut where the target's is: its lid striped (a texture only it has),
    # with red and blue shades (a real lid's) and in a blue cast, all of which a grey photo has not.
    size = image.shape[1::-1]
    lid = cv2.dilate((polygon_mask(lash_rows(target, lash_offsets(points))[:6], size) > 0.5).astype(np.uint8),
                     np.ones((9, 9), np.uint8)) > 0
    donor = np.full_like(image, 170)
    stripes = (np.arange(image.shape[0]) // 2 % 2 * 40 - 20)[:, None] * np.ones(image.shape[1])
    donor[lid] = np.clip(170 + stripes[lid], 0, 255)[:, None].astype(np.uint8)
    shades = (np.arange(image.shape[1]) // 3 % 2 * 50 - 25)[None, :] * np.ones(image.shape[0])[:, None]
    donor[lid] = np.clip(donor[lid] + shades[lid][:, None] * [1, 0, -1], 0, 255).astype(np.uint8)
    donor = np.clip(donor.astype(np.int16) + [-30, -10, 40], 0, 255).astype(np.uint8)
    drawn = close_lids(moved, target, points, donor=donor, donor_points=target)
    band = polygon_mask(target[36:42], size) > 0.5
    band |= polygon_mask(np.array([target[36], target[39], (target[37] + target[38]) / 2 - [0, 4]]), size) > 0.5
    grey = lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.float32)  # noqa: E731
    rows = grey(drawn)[band] - grey(inpainted)[band]
    assert np.corrcoef(rows, stripes[band])[0, 1] > 0.5  # the driver's lid is what covers the eye
    skin = drawn[band].astype(np.float32).mean(0)  # the lash line included
    assert np.ptp(skin) < 8  # grey as the photo's skin, not in the driver's blue cast
    chroma = cv2.cvtColor(drawn, cv2.COLOR_RGB2LAB)[band][:, 1:].astype(np.float32) - 128
    assert np.percentile(np.abs(chroma), 95) < 4  # nor in its red and blue shades: a grey lid
    assert abs(skin.mean() - inpainted[band].mean()) < 12  # and as light
    # An open eye of the driver lends nothing: its iris would be laid into the photo.
    assert np.array_equal(close_lids(moved, target, points, donor=donor, donor_points=points), inpainted)


def test_the_mouth_inside_keeps_white_teeth_in_a_grey_photo(face):
    image, points = face
    grey_face = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)  # an old photo
    target = points.copy()
    target[[65, 66, 67, 56, 57, 58, 7, 8, 9]] += [0, 12.0]  # the jaw drops
    donor = image.copy()  # a driver: pink lips, white teeth, in colour
    size = image.shape[1::-1]
    lips = np.clip(polygon_mask(points[48:60], size) - polygon_mask(points[60:68], size), 0, 1) > 0.5
    donor[lips] = [190, 90, 110]
    opened = FaceWarp(donor, points)(target).image  # the donor's mouth, opened, and its inside painted
    inside = polygon_mask(target[60:68], size)
    teeth = cv2.erode(inside, np.ones((3, 3), np.uint8)) > 0.5
    opened[teeth] = [245, 245, 240]
    out = fill_mouth(FaceWarp(grey_face, points)(target).image, target, opened, target)
    lab = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(np.float32)
    ring = np.clip(polygon_mask(target[48:60], size) - inside, 0, 1) > 0.5
    assert lab[teeth, 0].mean() > lab[ring, 0].mean() + 60  # the teeth stay white against the lips
    assert np.abs(lab[teeth, 1:] - 128).max() < 12  # and grey like the photo, not the donor's pink


def shift_colour(image: np.ndarray, mask: np.ndarray, by: tuple[float, float]) -> np.ndarray:
    """`image` with LAB's a and b moved by `by` inside `mask`: the same lips, tinted."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[mask, 1:] += by
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def test_a_warm_lipped_drivers_teeth_stay_white_on_a_pale_lipped_photo(face):
    image, points = face
    size = image.shape[1::-1]
    lips = np.clip(polygon_mask(points[48:60], size) - polygon_mask(points[60:68], size), 0, 1) > 0.5
    photo = shift_colour(image, lips, (0, -8))  # pale, cool lips (a light-skinned face)
    target = points.copy()
    target[[65, 66, 67, 56, 57, 58, 7, 8, 9]] += [0, 12.0]  # the jaw drops
    donor = shift_colour(image, lips, (12, 25))  # a darker driver's warm brown lips ...
    opened = FaceWarp(donor, points)(target).image
    inside = polygon_mask(target[60:68], size)
    teeth = cv2.erode(inside, np.ones((3, 3), np.uint8)) > 0.5
    noise = np.random.default_rng(0).normal(0, 6, (teeth.sum(), 1))
    opened[teeth] = np.clip([235, 230, 215] + noise, 0, 255).astype(np.uint8)  # ... and its white teeth
    out = fill_mouth(FaceWarp(photo, points)(target).image, target, opened, target)
    lab = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(np.float32)
    # Shifting every colour by the lips' difference tinted these teeth cyan-green (a, b below grey).
    assert lab[teeth, 1].mean() > 124 and lab[teeth, 2].mean() > 124
    assert np.abs(lab[teeth, 1:] - 128).mean() < 10
    ring = np.clip(polygon_mask(target[48:60], size) - inside, 0, 1) > 0.5
    want = cv2.cvtColor(FaceWarp(photo, points)(target).image, cv2.COLOR_RGB2LAB).astype(np.float32)
    assert np.abs(np.median(lab[ring, 1:], 0) - np.median(want[ring, 1:], 0)).max() < 4  # the photo's lips


def test_the_rest_mouth_is_laid_on_the_first_frame_of_a_turning_driver(face):
    _, points = face
    closed = points.copy()
    middle = 0.5 * (closed[[61, 62, 63]] + closed[[67, 66, 65]])
    closed[[61, 62, 63]], closed[[67, 66, 65]] = middle, middle
    frames = np.repeat(closed[None], 20, axis=0)
    frames[0, [65, 66, 67, 56, 57, 58]] += [0, 10.0]  # the driver starts mid-word ...
    turned = list(range(0, 17)) + list(range(27, 36)) + list(range(48, 68))  # the lower face moved aside
    frames[1:, turned] += [6.0, 0]  # ... and is turned a little in every other frame
    rest = resting_face(frames, closed)
    assert np.allclose(rest[48:68], closed[48:68], atol=0.5)  # a closed mouth, where frame 0 has its face
    assert np.allclose(rest[3:14], closed[3:14], atol=0.5)  # the jaw not shifted by the others' turn


def test_a_mouth_closing_from_an_open_photo_hides_its_teeth(face):
    image, points = face
    size = image.shape[1::-1]
    opened = points.copy()
    opened[[65, 66, 67, 56, 57, 58, 7, 8, 9]] += [0, 12.0]  # a photo caught with the mouth open
    photo = FaceWarp(image, points)(opened).image
    # Its teeth, reaching a little past the inner lip line (where dlib puts it on a real open mouth).
    teeth = cv2.dilate(polygon_mask(opened[60:68], size), np.ones((5, 5), np.uint8)) > 0.5
    photo[teeth] = [245, 245, 240]
    assert mouth_opening(opened) > 0.04
    closed = points.copy()
    closed[[65, 66, 67]] = closed[[63, 62, 61]]  # the driver shuts its mouth
    drawn = FaceWarp(photo, opened)(closed)
    # Where the lips meet: the warp alone leaves the teeth's white there, a closed mouth a dark line.
    line = np.zeros(image.shape[:2], np.uint8)
    cv2.polylines(line, [np.round(drawn.points[60:65]).astype(np.int32)], False, 1, 1)
    line = line > 0
    before = drawn.image[line].min(axis=1).mean()
    out = close_lips(drawn.image, drawn.points, opened)
    assert before > 200
    assert out[line].min(axis=1).mean() < before - 80
    # A photo whose mouth shows nothing inside is left alone.
    assert np.array_equal(close_lips(drawn.image, drawn.points, closed), drawn.image)
