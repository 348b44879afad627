import numpy as np
import pytest

from reanimate.core.dlib_models import model_path
from reanimate.faces.landmarks import LandmarkDetector, jitter, smooth_over_time
from reanimate.io.video import open_video


def test_models_ship_inside_the_package():
    assert model_path("landmarks68").stat().st_size > 50e6
    assert model_path("descriptor").is_file()


def test_smoothing_stays_within_runs():
    values = np.array([0, 0, 10, 0, 0, np.nan, 5, 5, 5], float)[:, None]
    valid = np.isfinite(values[:, 0])
    out = smooth_over_time(values, valid, sigma=1.0)
    assert 0 < out[1, 0] < 10 and out[2, 0] < 10  # the spike is spread out ...
    assert np.isnan(out[5, 0]) and np.allclose(out[6:, 0], 5)  # ... but not across the gap
    assert np.array_equal(smooth_over_time(values, valid, 0.0), values.astype(np.float32), equal_nan=True)


def test_jitter_measures_shake_not_motion():
    base = np.random.default_rng(0).uniform(0, 100, (68, 2))
    steady = np.stack([base + [t, 0] for t in range(20)])  # a face gliding sideways
    shaky = steady + np.random.default_rng(1).normal(0, 1, steady.shape)
    found = np.ones(20, bool)
    assert jitter(steady, found) < 1e-6 < jitter(shaky, found)


def test_choose_keeps_the_tracked_face():
    chooser = LandmarkDetector.__new__(LandmarkDetector)
    chooser.reacquire = 5
    ours, other = np.array([10, 10, 50, 50.0]), np.array([100, 10, 160, 70.0])
    assert np.array_equal(chooser._choose([other, ours + 2], ours, 0), ours + 2)  # the overlap wins over size
    assert chooser._choose([other], ours, 1) is None  # ours briefly hidden: do not jump to another face
    assert np.array_equal(chooser._choose([other], ours, 9), other)  # long gone: take what is there
    assert np.array_equal(chooser._choose([ours, other], None, 0), other)  # first frame: the largest


def test_landmarks_on_a_synthetic_face_are_close_to_the_truth(tmp_path, detector, synthetic_video):
    truth = synthetic_video(tmp_path / "face.mp4", frames=8, size=200, seed=4)
    track = detector.track(f for _, f in open_video(tmp_path / "face.mp4").frames())
    assert track.found.sum() >= 6
    eyes = np.linalg.norm(truth[:, 36:42].mean(1) - truth[:, 42:48].mean(1), axis=-1)  # (T,)
    error = np.linalg.norm(track.points - truth, axis=-1).mean(axis=1) / eyes  # (T,) normalized mean error
    assert np.nanmean(error[track.found]) < 0.25


@pytest.mark.slow
def test_real_talking_man_is_found_and_smooth(carphone_track, carphone_frames):
    track = carphone_track
    assert track.found.mean() >= 0.9
    pts = track.points[track.found]
    assert (pts >= -5).all() and (pts[..., 0] <= 181).all() and (pts[..., 1] <= 149).all()
    raw, smooth = jitter(track.raw, track.found), jitter(track.points, track.found)
    assert smooth < 0.6 * raw and smooth < 0.03


@pytest.mark.slow
def test_two_faces_keeps_following_the_first(detector, carphone_frames):
    # The same man twice, side by side, the right copy mirrored: the track must not hop between them.
    frames = [np.concatenate([f, f[:, ::-1]], axis=1) for f in carphone_frames[40:60]]
    track = detector.track(frames)
    assert track.faces[0] == 2 and track.found.mean() > 0.9
    centres = track.points[track.found][:, :, 0].mean(axis=1)
    assert (centres < 176).all() or (centres > 176).all()
    assert np.abs(np.diff(centres)).max() < 20


@pytest.mark.slow
def test_a_head_tilting_far_is_still_followed(detector, carphone_frames):
    # The HOG detector alone loses a face tilted past ~20 degrees; the turned search window keeps it.
    import cv2

    frames, angles = [], np.linspace(0, 45, 30)
    for angle, frame in zip(angles, carphone_frames[20:50]):
        turn = cv2.getRotationMatrix2D((88, 60), float(angle), 1.0)
        frames.append(cv2.warpAffine(frame, turn, (176, 144), borderMode=cv2.BORDER_REPLICATE))
    track = detector.track(frames, smooth=0)
    assert track.found.mean() > 0.9 and track.found[-5:].all()
    eyes = track.raw[:, 42:48].mean(1) - track.raw[:, 36:42].mean(1)  # (T, 2)
    seen = -np.degrees(np.arctan2(eyes[:, 1], eyes[:, 0]))  # counter-clockwise tilt of the eye line
    tilt_then = seen[0]
    assert np.abs((seen - tilt_then) - angles)[track.found].max() < 10
