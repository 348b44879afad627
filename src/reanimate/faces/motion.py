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


REST_SHARE = 0.1  # the face at rest: the mean of this share of the driver's frames


def resting_face(faces: np.ndarray, source: np.ndarray) -> np.ndarray:
    """The driver's face (68, 2) to measure expressions from, out of its frames (N, 68, 2) in one pose.

    Not simply its first frame, which is often mid-word or mid-blink (a start with the mouth half
    open would close a closed-mouth photo's lips no further, and its mouth would barely follow): the
    mean of the frames, eyes open, whose mouth is opened most nearly as the source's. A photo with
    closed lips is so moved from the driver's closed-lip frames, a broadly smiling one from its open
    ones, and a driver driving its own first frame from that frame's state.
    """
    eyes = np.array([eye_opening(face, 0) + eye_opening(face, 1) for face in faces])
    awake = np.flatnonzero(eyes >= np.median(eyes))
    mouth = np.array([mouth_opening(faces[i]) for i in awake])
    nearest = awake[np.argsort(np.abs(mouth - mouth_opening(source)), kind="stable")]
    return faces[nearest[:max(1, round(REST_SHARE * len(faces)))]].mean(0)


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
    raise UserError(f"--motion {mode!r} must be one of {', '.join(MOTION_MODES)}")
