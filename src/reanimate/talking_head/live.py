"""A photo driven live, one camera frame at a time (the studio's webcam): track, move, warp the photo.

Frames come one by one, so what the motion modes take from a whole driver video comes from the
first frames instead: the driver's first face (relative) or a slowly updated resting face (adapted).
Landmarks and gaze are smoothed over frames (an exponential average) so the photo does not tremble
with the detector's jitter. The photo moves as `reanimate talk animate` moves it (`Portrait`).
"""

import numpy as np

from reanimate.core.errors import UserError
from reanimate.faces.align import Crop, face_box
from reanimate.faces.eyes import find_irises, gaze
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.motion import check_motion, drive
from reanimate.faces.shots import MARGIN, Shot
from reanimate.talking_head.portrait import Portrait

SMOOTH = 0.5  # weight of the newest landmarks in the running average
REST = 0.02  # how fast the resting face follows the driver (adapted mode)


class LivePuppet:
    """Shots of a person, animated by camera frames as they arrive.

    Args:
        shots: the person (`reanimate.faces.shots.find_shots`); the first one's photo is the output.
        size: side of the face crop the warp works at.
        motion: "adapted", "relative" or "absolute" (see `reanimate.faces.motion`).

    Example:
        >>> puppet = LivePuppet(find_shots(["me.jpg"]), 256, "relative")
        >>> picture = puppet(camera_frame)   # the photo, moved like the face in the frame
    """

    def __init__(self, shots: list[Shot], size: int, motion: str = "relative", detector: LandmarkDetector | None = None):
        check_motion(motion)
        self.motion, self.size = motion, size
        self.reference = shots[0]
        self.portrait = Portrait(shots, size)
        self.detector = detector or LandmarkDetector()
        self.points: np.ndarray | None = None  # smoothed driver landmarks, in the driver crop
        self.gaze = np.full((2, 2), np.nan, np.float32)  # smoothed, each iris in its eye's frame
        self.first_gaze = np.full((2, 2), np.nan, np.float32)
        self.first: np.ndarray | None = None
        self.rest: np.ndarray | None = None
        self.driver_crop: Crop | None = None  # set at the first face and kept: head moves stay in the landmarks
        self._box = None

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """The reference photo moved like the face in `frame` (RGB uint8); the last pose without a face."""
        gray = frame.mean(axis=2).astype(np.uint8)
        boxes = self.detector.find_faces(gray, self._box)
        mouth = None  # the camera face's crop: an opening mouth's inside comes from it
        if boxes:
            self._box = boxes[0]
            points = self.detector.landmarks(gray, boxes[0])
            self._look(gaze(points, find_irises(gray, points)))
            self.driver_crop = self.driver_crop or Crop(*face_box(points, MARGIN), self.size)
            points = self.driver_crop.apply(points)
            self.points = points if self.points is None else SMOOTH * points + (1 - SMOOTH) * self.points
            if self.first is None:
                self.first = self.rest = self.points.copy()
            self.rest = REST * self.points + (1 - REST) * self.rest
            mouth = self.driver_crop.warp(frame)
        if self.points is None:
            return self.reference.frame
        reference = self.first if self.motion == "relative" else self.rest
        target = drive(self.points[None], self.portrait.shot_points, self.motion, reference)[0]
        return self.portrait.render(target, self.gaze - self.first_gaze, mouth, None if mouth is None else self.points)

    def _look(self, seen: np.ndarray) -> None:
        """Fold one frame's gaze (2, 2) into the running one; an eye not seen keeps its last look."""
        for eye in (0, 1):
            if not np.isfinite(seen[eye]).all():
                continue
            known = np.isfinite(self.gaze[eye]).all()
            self.gaze[eye] = SMOOTH * seen[eye] + (1 - SMOOTH) * self.gaze[eye] if known else seen[eye]
            if not np.isfinite(self.first_gaze[eye]).all():
                self.first_gaze[eye] = seen[eye]
