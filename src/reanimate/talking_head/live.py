"""A photo driven live, one camera frame at a time (the studio's webcam): track, move, warp, paste back.

Frames come one by one, so what the motion modes take from a whole driver video comes from the
first frames instead: the driver's first face (relative) or a slowly updated resting face (adapted).
Landmarks are smoothed over frames (an exponential average) so the photo does not tremble with the
detector's jitter.
"""

import numpy as np

from reanimate.core.errors import UserError
from reanimate.faces.align import Crop, face_box
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.motion import MOTION_MODES, drive
from reanimate.faces.paste import paste_face
from reanimate.faces.shots import MARGIN, Shot, crop_shots
from reanimate.talking_head.warp_avatar import WarpAvatar

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
        if motion not in MOTION_MODES:
            raise UserError(f"motion {motion!r} must be one of {', '.join(MOTION_MODES)}")
        self.motion, self.size = motion, size
        self.reference = shots[0]
        self.crops, images, self.shot_points = crop_shots(shots, size)
        self.avatar = WarpAvatar(images, self.shot_points)
        self.detector = detector or LandmarkDetector()
        self.points: np.ndarray | None = None  # smoothed driver landmarks, in the driver crop
        self.first: np.ndarray | None = None
        self.rest: np.ndarray | None = None
        self.driver_crop: Crop | None = None  # set at the first face and kept: head moves stay in the landmarks
        self._box = None

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """The reference photo moved like the face in `frame` (RGB uint8); the last pose without a face."""
        gray = frame.mean(axis=2).astype(np.uint8)
        boxes = self.detector.find_faces(gray, self._box)
        if boxes:
            self._box = boxes[0]
            points = self.detector.landmarks(gray, boxes[0])
            self.driver_crop = self.driver_crop or Crop(*face_box(points, MARGIN), self.size)
            points = self.driver_crop.apply(points)
            self.points = points if self.points is None else SMOOTH * points + (1 - SMOOTH) * self.points
            if self.first is None:
                self.first = self.rest = self.points.copy()
            self.rest = REST * self.points + (1 - REST) * self.rest
        if self.points is None:
            return self.reference.frame
        reference = self.first if self.motion == "relative" else self.rest
        target = drive(self.points[None], self.shot_points, self.motion, reference)[0]
        face = self.avatar.render(target)
        match = self.avatar.crops[0] if self.avatar.current != 0 else None  # another shot's light: matched
        return paste_face(self.reference.frame, face, self.crops[0], target, self.shot_points[0], match)
