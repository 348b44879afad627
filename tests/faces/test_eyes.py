"""Irises beyond the 68 points, on synthetic faces whose pupils are drawn where their gaze says."""

import cv2
import numpy as np
import pytest

from reanimate.faces.eyes import (eye_opening, find_irises, gaze, iris_targets, lids_at, place_iris, smooth_gaze,
                                  to_eye, turn_eyes)
from reanimate.faces.synth import Pose, animate, random_identity, render_face
from reanimate.faces.warp import FaceWarp

PUPIL = 15  # the synthetic pupil's grey level


def pupils(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(2, 2) the centres of the drawn pupils (the truth), NaN where too little of one shows."""
    dark = np.all(np.abs(image.astype(int) - PUPIL) <= 10, axis=2)
    out = np.full((2, 2), np.nan)
    for eye, start in enumerate((36, 42)):
        box = cv2.boundingRect(points[start:start + 6].astype(np.float32))
        mask = np.zeros_like(dark)
        x, y, w, h = box
        mask[y - 2:y + h + 3, x - 2:x + w + 3] = True
        ys, xs = np.nonzero(dark & mask)
        if len(xs) > 6:
            out[eye] = xs.mean(), ys.mean()
    return out


@pytest.fixture(scope="module")
def faces():
    """24 synthetic faces at 256 px looking about, with their landmarks."""
    rng = np.random.default_rng(3)
    out = []
    for i in range(24):
        pose = animate(np.random.default_rng(i), 1)[0]
        pose = Pose(**{**pose.__dict__, "gaze": tuple(rng.uniform(-0.25, 0.25, 2))})
        out.append(render_face(random_identity(np.random.default_rng(100 + i)), pose, 256))
    return out


def test_irises_are_found_where_the_pupils_are(faces):
    errors, shifts = [], []
    for image, points in faces:
        found = find_irises(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), points)
        truth = pupils(image, points)
        for eye in (0, 1):
            if np.isfinite(truth[eye]).all() and eye_opening(points, eye) > 0.25:
                assert np.isfinite(found[eye]).all()
                width = np.linalg.norm(points[36 + 6 * eye + 3] - points[36 + 6 * eye])
                errors.append(np.linalg.norm(found[eye] - truth[eye]) / width)
                shifts.append((to_eye(points, eye, found[eye])[0], to_eye(points, eye, truth[eye])[0]))
    assert len(errors) > 20
    assert np.median(errors) < 0.08 and np.max(errors) < 0.15  # in eye widths (measured: 0.056, 0.099)
    found_u, true_u = np.array(shifts).T
    assert np.corrcoef(found_u, true_u)[0, 1] > 0.9  # a look aside is seen as one


def test_no_iris_in_a_blank_a_closed_or_a_tiny_eye(faces):
    image, points = faces[0]
    blank = np.full(image.shape[:2], 128, np.uint8)
    assert np.isnan(find_irises(blank, points)).all()  # no dark disc: none made up
    closed = points.copy()
    closed[[37, 38, 43, 44]] = closed[[41, 40, 47, 46]]
    assert np.isnan(find_irises(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), closed)).all()
    tiny = cv2.resize(image, (32, 32), interpolation=cv2.INTER_AREA)
    assert np.isnan(find_irises(cv2.cvtColor(tiny, cv2.COLOR_RGB2GRAY), points / 8)).all()


def test_irises_stay_between_the_lids_and_hide_when_they_close(faces):
    _, points = faces[1]
    for eye in (0, 1):
        for uv in ([0.5, -3.0], [0.5, 3.0], [-1.0, 0.0], [2.0, 0.0]):
            iris = to_eye(points, eye, place_iris(points, eye, np.array(uv, np.float32)))
            upper, lower = lids_at(points, eye, iris[0])
            assert 0.25 - 1e-4 <= iris[0] <= 0.75 + 1e-4 and upper < iris[1] < lower
    closed = points.copy()
    closed[[37, 38, 43, 44]] = closed[[41, 40, 47, 46]]
    iris = to_eye(closed, 0, place_iris(closed, 0, np.array([0.5, 0.0], np.float32)))
    assert np.isclose(iris[1], np.mean(lids_at(closed, 0, iris[0])), atol=1e-4)  # on the closed lid line


def dark_u(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(2,) where along each eye (u) its dark pixels (iris and pupil) lie on average."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    out = []
    for eye, start in enumerate((36, 42)):
        mask = np.zeros(grey.shape, np.uint8)
        cv2.fillPoly(mask, [np.round(points[start:start + 6]).astype(np.int32)], 1)
        mask = cv2.erode(mask, np.ones((7, 7), np.uint8))  # not the dark lid margins
        ys, xs = np.nonzero(mask & (grey < 100))
        out.append(np.mean([to_eye(points, eye, np.float32([x, y]))[0] for x, y in zip(xs, ys)]))
    return np.array(out)


def test_a_look_aside_slides_the_iris_and_a_blink_hides_it(faces):
    image, points = faces[2]
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    irises = find_irises(gray, points)
    own = gaze(points, irises)
    warp = FaceWarp(image, points, irises)
    moved = warp(points)
    assert not moved.folds_clamped
    for aside in (-0.15, 0.15):  # the driver looked 0.15 eye widths to one side, then the other
        wanted = iris_targets(own, np.float32([[aside, 0.0]] * 2), points)
        turned = turn_eyes(moved.image, points, warp.look_kept(points), wanted)
        shift = dark_u(turned, points) - dark_u(image, points)
        assert (np.sign(shift) == np.sign(aside)).all() and (np.abs(shift) > 0.06).all(), shift
        outside = np.ones(image.shape[:2], bool)
        for start in (36, 42):
            x, y, w, h = cv2.boundingRect(points[start:start + 6].astype(np.float32))
            outside[y - 2:y + h + 3, x - 2:x + w + 3] = False
        assert np.array_equal(turned[outside], moved.image[outside])  # only the eyes changed
    blink = points.copy()
    blink[[37, 38, 43, 44]] = blink[[41, 40, 47, 46]]  # both upper lids down onto the lower ones
    closed = warp(blink)
    assert not closed.folds_clamped  # a closing lid is not a fold: the expression is kept
    eyes = np.zeros(image.shape[:2], np.uint8)
    for start in (36, 42):
        cv2.fillPoly(eyes, [np.round(points[start:start + 6]).astype(np.int32)], 1)
    dark = lambda im: (np.all(np.abs(im.astype(int) - PUPIL) <= 20, axis=2) & (eyes > 0)).sum()  # noqa: E731
    assert dark(image) > 30 and dark(closed.image) < 0.1 * dark(image)  # the lid skin came down over the iris


def test_gaze_smoothing_holds_a_blink():
    track = np.zeros((9, 2, 2), np.float32)
    track[:, :, 0] = np.linspace(0.4, 0.6, 9)[:, None]
    track[4] = np.nan  # a blink: no iris
    track[:, 1] = np.nan  # an eye never seen (glasses' glare)
    smooth = smooth_gaze(track, 1.0)
    assert np.isfinite(smooth[:, 0]).all() and np.isnan(smooth[:, 1]).all()
    assert abs(smooth[4, 0, 0] - 0.5) < 0.02
