import cv2
import numpy as np
import pytest

from reanimate.faces.align import Crop, face_box, stable_crops


@pytest.mark.parametrize("side", [60.0, 150.0, 700.0])  # enlarging, mild and strong shrinking
def test_points_and_pixels_move_together(side):
    frame = np.zeros((600, 800, 3), np.uint8)
    spot = np.array([412.3, 275.8])
    cv2.circle(frame, (int(spot[0] * 16), int(spot[1] * 16)), int(0.03 * side * 16), (255, 255, 255), -1,
               cv2.LINE_AA, 4)
    crop = Crop(400.0, 270.0, side, 128)
    image = crop.warp(frame)
    assert image.shape == (128, 128, 3)
    weights = image[:, :, 0].astype(float)
    ys, xs = np.mgrid[:128, :128]
    centroid = np.array([(xs * weights).sum(), (ys * weights).sum()]) / weights.sum()
    assert np.abs(centroid - crop.apply(spot)).max() < 0.35


def test_apply_and_invert_round_trip():
    crop = Crop(101.5, 77.25, 93.0, 256)
    points = np.random.default_rng(0).uniform(0, 200, (68, 2))
    assert np.allclose(crop.invert(crop.apply(points)), points, atol=1e-3)
    corners = crop.apply(np.array([[101.5 - 46.5, 77.25 - 46.5], [101.5 + 46.5, 77.25 + 46.5]]))
    assert np.allclose(corners, [[0, 0], [256, 256]], atol=1e-3)


def test_box_holds_the_face_with_margin():
    points = np.random.default_rng(1).uniform([40, 50], [100, 130], (68, 2))
    cx, cy, side = face_box(points, margin=0.4)
    assert side == pytest.approx(1.8 * 80, rel=0.05)
    assert cx - side / 2 < points[:, 0].min() and cx + side / 2 > points[:, 0].max()
    assert cy - side / 2 < points[:, 1].min() and cy + side / 2 > points[:, 1].max()


def test_crops_are_steady_and_skip_missing_frames():
    rng = np.random.default_rng(2)
    base = rng.uniform([40, 50], [100, 130], (68, 2))
    points = np.stack([base + rng.normal(0, 1.5, 2) for _ in range(30)])
    found = np.ones(30, bool)
    found[10] = False
    points[10] = np.nan
    crops = stable_crops(points, found, size=64, sigma=4)
    assert crops[10] is None and all(c is not None for i, c in enumerate(crops) if i != 10)
    smooth = np.array([[c.cx, c.cy] for c in crops if c is not None])
    raw = np.array([face_box(p, 0.4)[:2] for i, p in enumerate(points) if found[i]])
    assert np.abs(np.diff(smooth, axis=0)).mean() < 0.5 * np.abs(np.diff(raw, axis=0)).mean()
