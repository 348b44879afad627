import numpy as np
import pytest

from reanimate.faces.raster import PARTS, default_thickness, draw_landmarks
from reanimate.faces.synth import Pose, landmarks_3d, random_identity, render_face


@pytest.fixture
def points():
    face = random_identity(np.random.default_rng(3))
    return render_face(face, Pose(mouth=0.15), 256)[1]


def test_drawing_is_deterministic(points):
    assert np.array_equal(draw_landmarks(points, (256, 256)), draw_landmarks(points, (256, 256)))


def test_every_part_is_drawn_in_its_own_colour(points):
    image = draw_landmarks(points, (256, 256))
    for part in PARTS:
        # Pixels of exactly the part's colour appear along its own segments.
        along = points[list(part.indices)]
        mids = (along[:-1] + along[1:]) / 2
        hits = [np.array_equal(image[int(round(y)), int(round(x))], part.colour) for x, y in mids]
        assert np.mean(hits) >= 0.5, part.name


def test_parts_cover_all_68_points_once():
    indices = sorted(i for part in PARTS for i in part.indices)
    assert indices == list(range(68))
    assert len({part.colour for part in PARTS}) == len(PARTS)


def test_any_size_and_thickness(points):
    small = draw_landmarks(points * 0.25, (64, 48))
    assert small.shape == (48, 64, 3) and small.any()
    assert default_thickness(256, 256) == 2 and default_thickness(512, 512) == 4 and default_thickness(64, 64) == 1
    thin = draw_landmarks(points, (256, 256), thickness=1).any(axis=2).sum()
    thick = draw_landmarks(points, (256, 256), thickness=4).any(axis=2).sum()
    assert thick > 2 * thin


def test_anti_aliased_and_sub_pixel(points):
    image = draw_landmarks(points, (256, 256))
    levels = np.unique(image[image.any(axis=2)].max(axis=1))
    assert len(levels) > 20  # soft edges, not just on/off pixels
    shifted = draw_landmarks(points + 0.25, (256, 256))
    assert not np.array_equal(image, shifted)  # a quarter-pixel move changes the picture


def test_no_face_draws_nothing_and_bad_shapes_fail(points):
    assert not draw_landmarks(np.full((68, 2), np.nan), (32, 32)).any()
    base = np.full((32, 32, 3), 7, np.uint8)
    assert np.array_equal(draw_landmarks(np.full((68, 2), np.nan), (32, 32), image=base), base)
    with pytest.raises(ValueError):
        draw_landmarks(points[:60], (256, 256))


def test_3d_template_is_a_plausible_face():
    pts = landmarks_3d(random_identity(np.random.default_rng(0)), Pose())
    assert pts[8, 1] > pts[57, 1] > pts[33, 1] > pts[39, 1] > pts[19, 1]  # chin, lip, nose, eye, brow
    assert pts[36, 0] < pts[39, 0] < 0 < pts[42, 0] < pts[45, 0]  # eyes left to right
