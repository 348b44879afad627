"""The driver's landmarks over time (faces.motion.smooth_driver): quick features keep their size."""

import numpy as np

from reanimate.faces.landmarks import smooth_over_time
from reanimate.faces.motion import QUICK, smooth_driver
from reanimate.faces.mouth import mouth_opening


def test_a_syllable_keeps_its_size_and_the_head_its_steadiness():
    rng = np.random.default_rng(0)
    face = rng.uniform(20, 80, (68, 2)).astype(np.float32)
    face[[61, 62, 63]], face[[67, 66, 65]] = [[45, 60], [50, 60], [55, 60]], [[45, 60], [50, 60], [55, 60]]
    raw = np.repeat(face[None], 30, axis=0)
    raw[14:17, 65:68, 1] += [[4], [8], [4]]  # the lower lip drops for three frames: a syllable
    jitter = rng.normal(0, 0.5, raw.shape).astype(np.float32)
    jitter[:, QUICK] = 0
    raw += jitter  # the head's outline and eye corners shake, as dlib's do
    found = np.ones(len(raw), bool)
    peak = mouth_opening(raw[15])
    assert mouth_opening(smooth_driver(raw, found)[15]) > 0.85 * peak
    assert mouth_opening(smooth_over_time(raw, found, 1.0)[15]) < 0.7 * peak  # what one sigma for all lost
    others = [i for i in range(68) if i not in QUICK]
    steady = np.abs(np.diff(smooth_driver(raw, found)[:, others], axis=0)).mean()
    assert steady < 0.5 * np.abs(np.diff(raw[:, others], axis=0)).mean()
    assert np.array_equal(smooth_driver(raw, found)[:, others], smooth_over_time(raw, found, 1.0)[:, others])


def test_frames_without_a_face_stay_unknown():
    raw = np.random.default_rng(1).uniform(0, 100, (10, 68, 2)).astype(np.float32)
    found = np.ones(10, bool)
    found[4] = False
    raw[4] = np.nan
    out = smooth_driver(raw, found)
    assert np.isnan(out[4]).all() and np.isfinite(out[found]).all()
