"""Whose landmarks drive the face: the driver's motion put on the source person (motion modes).

- adapted (default): the driver's pose and expression drawn with the source's face shape;
- relative: the driver's change since its first frame added to the source's own landmarks (FOMM,
  Siarohin et al. 2019), so a source that starts with another pose or expression keeps it;
- absolute: the driver's landmarks as they are (best when the driver is the source person).
All points are in crop coordinates: source and driver crops frame the face alike, so the modes
need no further scaling.
"""

import numpy as np

from reanimate.core.errors import UserError
from reanimate.faces.warp import apply_similarity, similarity

MOTION_MODES = ("adapted", "relative", "absolute")


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


def relative_motion(driver: np.ndarray, source: np.ndarray, first: np.ndarray | None = None) -> np.ndarray:
    """The source's landmarks (68, 2) moved by each driver frame's change from the first one (N, 68, 2).

    The change is taken in the first frame's pose (rotation and scale undone) and redone in the
    source's, so a head turned differently from the driver's still moves the right way. `first`
    (68, 2): the driver's starting face when the frames come one at a time.
    """
    first = driver[0] if first is None else first
    pose = similarity(first, source)  # driver frame 0 -> the source face
    return np.stack([apply_similarity(frame, pose) - apply_similarity(first, pose) + source
                     for frame in driver]).astype(np.float32)


def drive(driver: np.ndarray, shots: np.ndarray, mode: str = "adapted", reference: np.ndarray | None = None
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
