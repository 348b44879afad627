"""A photo in layers, on a real frame (carphone): the person found, the background behind them painted
in, and a head that moves leaving the background beside it where it was."""

import numpy as np
import pytest

from reanimate.faces.layers import person_layers
from reanimate.faces.warp import FaceWarp


@pytest.fixture(scope="module")
def photo(carphone_frames, carphone_track):
    frame, points = carphone_frames[30], carphone_track.points[30]
    return frame, points, person_layers(frame, points)


def test_the_person_is_found_and_painted_out_of_the_plate(photo):
    frame, points, layers = photo
    at = lambda image, k: image[int(round(points[k, 1])), int(round(points[k, 0]))]  # noqa: E731
    assert min(at(layers.alpha, k) for k in range(68)) > 0.9  # the whole face
    chin_to_bottom = layers.alpha[int(points[8, 1]):, int(points[8, 0])]
    assert chin_to_bottom.min() > 0.9  # the neck and chest below the chin
    assert layers.alpha[:8, :8].max() == 0 and layers.alpha[:8, -8:].max() == 0  # the car's roof corners
    assert 0.15 < layers.alpha.mean() < 0.6
    # The plate: the face gone (painted from its surroundings), the photo itself wherever the person is not.
    nose = frame[int(points[30, 1]) - 3:int(points[30, 1]) + 4, int(points[30, 0]) - 3:int(points[30, 0]) + 4]
    painted = layers.plate[int(points[30, 1]) - 3:int(points[30, 1]) + 4, int(points[30, 0]) - 3:int(points[30, 0]) + 4]
    assert np.abs(painted.astype(int) - nose).mean() > 20
    away = layers.alpha == 0
    assert np.array_equal(layers.plate[away], frame[away])


def test_a_head_moving_in_the_frame_leaves_the_background_beside_it_still(photo):
    frame, points, layers = photo
    target = points + [12, 0]  # the head moves right by a sixth of its width
    layered = FaceWarp(frame, points, alpha=layers.alpha)(target)
    plain = FaceWarp(frame, points)(target).image  # one warp of everything: the background is dragged
    assert layered.alpha is not None and np.abs(layered.image.astype(int) - plain).max() == 0
    picture = layers.over(layered.image, layered.alpha)
    # The background left of the head, beyond the person as found in the photo and as moved.
    band = np.zeros(frame.shape[:2], bool)
    band[int(points[19, 1]):int(points[8, 1]), max(0, int(points[0, 0]) - 40):int(points[0, 0])] = True
    beside = band & (layers.alpha == 0) & (layered.alpha == 0)
    assert beside.sum() > 200
    assert np.array_equal(picture[beside], frame[beside])  # held exactly
    assert np.abs(plain[beside].astype(int) - frame[beside]).mean() > 3  # where one warp moved it
    # The head went along, in full.
    nose = np.round(points[30]).astype(int)
    patch = lambda image, x: image[nose[1] - 4:nose[1] + 5, x - 4:x + 5].astype(int)  # noqa: E731
    assert np.abs(patch(picture, nose[0] + 12) - patch(frame, nose[0])).mean() < 12


def test_a_face_filling_the_picture_is_left_in_one_layer(carphone_frames, carphone_track):
    from reanimate.faces.align import Crop, face_box

    crop = Crop(*face_box(carphone_track.points[30], 0.05), 128)  # the face, edge to edge
    assert person_layers(crop.warp(carphone_frames[30]), crop.apply(carphone_track.points[30])) is None
