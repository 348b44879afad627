"""Whose landmarks drive the face: the driver's motion put on the source person (motion modes).

- adapted: the driver's pose and expression drawn with the source's face shape (the expression is
  taken from the driver's mean face, so one held for much of the clip is partly cancelled);
- relative (default): the driver's head move since its first frame and its expression against its face
  at rest, at full size, put on the source's own landmarks (FOMM, Siarohin et al. 2019), so a source that starts with another pose or
  expression keeps it;
- absolute: the driver's landmarks as they are (best when the driver is the source person).
All points are in crop coordinates: source and driver crops frame the face alike, so the modes
need no further scaling.
"""

import numpy as np

from reanimate.core.errors import UserError
from reanimate.faces.eyes import LOWER, UPPER, eye_opening
from reanimate.faces.landmarks import smooth_over_time
from reanimate.faces.mouth import mouth_opening
from reanimate.faces.warp import RIGID, apply_similarity, similarity

MOTION_MODES = ("adapted", "relative", "absolute")
# Relative motion follows real drivers best: `benchmarks/talk_real.py` (RESULTS.md, "Real faces that move").
DEFAULT_MOTION = "relative"


def adapt_shape(driver: np.ndarray, source: np.ndarray, driver_mean: np.ndarray | None = None) -> np.ndarray:
    """Driver landmarks (N, 68, 2) re-drawn with the source's face shape (mean over (T, 68, 2)).

    Each driver frame = its pose (a similarity transform of the driver's mean face) applied to the
    source's mean face plus the frame's expression (its deviation from the driver's mean face).
    `driver_mean` (68, 2): the driver's resting face when the frames come one at a time (a camera).
    """
    driver_mean = driver.mean(0) if driver_mean is None else driver_mean
    source_mean = source.mean(0)
    source_in_driver = apply_similarity(source_mean, similarity(source_mean, driver_mean))  # placed like the driver
    out = np.empty_like(driver)
    for i, frame in enumerate(driver):
        s, r, t = similarity(driver_mean, frame)  # this frame's pose
        expression = (frame - t) @ r / s - driver_mean  # undo the pose: what moved in the face
        out[i] = s * (source_in_driver + expression) @ r.T + t
    return out.astype(np.float32)


def _matrix(transform) -> np.ndarray:
    """(3, 3) homogeneous matrix of a (scale, rotation, shift) similarity."""
    scale, rotation, shift = transform
    m = np.eye(3)
    m[:2, :2], m[:2, 2] = scale * rotation, shift
    return m


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def relative_motion(driver: np.ndarray, source: np.ndarray, first: np.ndarray | None = None) -> np.ndarray:
    """The source's landmarks (68, 2) moved as each driver frame (N, 68, 2) moved from its start.

    Each frame splits into the head's move since the first frame (a similarity of the skull's rigid
    points: shift, scale, roll) and the expression (what is left once that move is undone, a yaw or
    a nod included) measured from the driver's face at rest (`resting_face`). The expression is added
    to the source's face in full, scaled and turned to it; the head's move is made in the source's
    frame (a driver turning 10 degrees turns the source 10 degrees, moving by a tenth of its face
    moves the source by a tenth of its own). So a source that starts with another pose or expression
    keeps it (FOMM's relative motion, Siarohin et al. 2019). `first` (68, 2): the driver's starting
    face when the frames come one at a time (a camera); it is then also the face at rest.
    """
    start = driver[0] if first is None else first
    poses = [_matrix(similarity(start[RIGID], frame[RIGID])) for frame in driver]  # head moves since the start
    faces = np.stack([_apply(np.linalg.inv(head), frame) for head, frame in zip(poses, driver)])  # in start's pose
    rest = start if first is not None else resting_face(faces, source)
    into_source = _matrix(similarity(start[RIGID], source[RIGID]))  # driver's frame -> the source's
    source_there = _apply(np.linalg.inv(into_source), source)  # the source's face laid over the driver's start
    out = np.empty((len(driver), 68, 2), np.float32)
    for i, (head, face) in enumerate(zip(poses, faces)):
        out[i] = shut_lids(_apply(into_source @ head, source_there + face - rest), face, rest, source)
    return out


REST_SHARE = 0.1  # a feature at rest: the mean of this share of the driver's frames
MOUTH_MATCH = 0.015  # a start whose mouth is opened within this (of the face's height) of the source's is kept
AWAKE = 0.85  # a start whose eyes are opened less than this share of the driver's median is mid-blink
MOUTH_AND_JAW = list(range(3, 14)) + list(range(48, 68))  # the jaw drops as the mouth opens
EYES = list(range(36, 48))
ANCHOR = [0, 1, 2, 14, 15, 16, 31, 32, 33, 34, 35]  # the nose's base and the jaw's top: still as the mouth moves
LIDS = [point for eye in UPPER + LOWER for point in eye]
QUICK = MOUTH_AND_JAW + LIDS  # what moves in a few frames: a syllable, a blink
STEADY, NIMBLE = 1.0, 0.5  # temporal Gaussian sigmas (frames) for the rest of the face and for QUICK


def smooth_driver(raw: np.ndarray, found: np.ndarray) -> np.ndarray:
    """A driver's landmarks (N, 68, 2) as detected, smoothed over time: the lips, jaw and lids less than
    the rest. Landmark jitter of the head's outline and eye corners reads as a shaking face and sets
    the head's move, so it is smoothed as the training data's (sigma 1 frame); a syllable or a blink
    lasts 3-5 frames, and that smoothing kept 0.91 of their size (the mouth's and eyes' opening over
    22 real clips, median), sigma 0.5 keeps 0.97 (`benchmarks/RESULTS.md`, "Real faces that move")."""
    points = smooth_over_time(raw, found, STEADY)
    points[:, QUICK] = smooth_over_time(raw[:, QUICK], found, NIMBLE)
    return points


def resting_face(faces: np.ndarray, source: np.ndarray) -> np.ndarray:
    """The driver's face (68, 2) to measure expressions from, out of its frames (N, 68, 2) in one pose.

    Its first frame, except where that frame is caught mid-word or mid-blink: a start with the mouth
    half open would close a closed-mouth photo's lips no further (its mouth would barely follow), and
    one with shut eyes would open the photo's. There the mouth and jaw are taken from the frames whose
    mouth is opened most nearly as the source's, the eyes from frames with the eyes open (means over a
    tenth of the frames). Only those points change, so the rest of the face keeps the first frame's
    exact shape (an average of other frames would carry their yaw and brows into every frame).
    """
    rest = faces[0].copy()
    share = max(1, round(REST_SHARE * len(faces)))
    mouths = np.array([mouth_opening(face) for face in faces])
    if abs(mouths[0] - mouth_opening(source)) > MOUTH_MATCH:
        nearest = np.argsort(np.abs(mouths - mouth_opening(source)), kind="stable")[:share]
        # Each of those frames laid on the first by its nose and the jaw's top: a face turned a little
        # otherwise brings its jaw shifted sideways, and every frame's jaw would carry the shift (a
        # notch in the cheek where the moved jaw meets the still temple).
        shift = faces[0, ANCHOR].mean(0) - faces[nearest][:, ANCHOR].mean(1)  # (share, 2)
        rest[MOUTH_AND_JAW] = (faces[nearest][:, MOUTH_AND_JAW] + shift[:, None]).mean(0)
    eyes = np.array([eye_opening(face, 0) + eye_opening(face, 1) for face in faces])
    if eyes[0] < AWAKE * np.median(eyes):
        awake = np.argsort(np.abs(eyes - np.median(eyes)), kind="stable")[:share]
        rest[EYES] = faces[awake][:, EYES].mean(0)
    return rest


SHUT = 0.3  # dlib reads a shut eye as about this share of its open height: from there the lid is closed


def shut_lids(target: np.ndarray, frame: np.ndarray, rest: np.ndarray, source: np.ndarray) -> np.ndarray:
    """`target` (68, 2) with each eye as open as the source's times how open the driver's is against
    its face at rest, read so that a blink or wink dlib sees as a third open shuts the lid (the landmarks
    of a closed eye never quite meet)."""
    target = target.copy()
    for eye in (0, 1):
        resting = eye_opening(rest, eye)
        if resting < 1e-3:
            continue
        ratio = eye_opening(frame, eye) / resting
        ratio = ratio if ratio >= 1 else float(np.clip((ratio - SHUT) / (1 - SHUT), 0, 1))
        want, have = eye_opening(source, eye) * ratio, eye_opening(target, eye)
        if have < 1e-3:
            continue
        for upper, lower in zip(UPPER[eye], LOWER[eye]):
            mid = 0.5 * (target[upper] + target[lower])
            target[upper] = mid + (target[upper] - mid) * (want / have)
            target[lower] = mid + (target[lower] - mid) * (want / have)
    return target


def drive(driver: np.ndarray, shots: np.ndarray, mode: str = DEFAULT_MOTION, reference: np.ndarray | None = None
          ) -> np.ndarray:
    """Target landmarks (N, 68, 2) for driver landmarks (N, 68, 2) and the shots' landmarks (T, 68, 2).

    `reference` (68, 2): the driver's resting or first face, for drivers seen a frame at a time.
    """
    if mode == "adapted":
        return adapt_shape(driver, shots, reference)
    if mode == "relative":
        return relative_motion(driver, shots[0], reference)
    if mode == "absolute":
        return np.asarray(driver, np.float32)
    check_motion(mode)
    raise AssertionError(mode)  # a mode check_motion knows and drive does not


def check_motion(mode: str) -> None:
    """Refuse a motion mode there is none of, before any work."""
    if mode not in MOTION_MODES:
        raise UserError(f"`motion` {mode!r} must be one of {', '.join(MOTION_MODES)}")
