"""The shots of a person: faces found in photos and videos, with their landmarks in the full frame.

A photo gives one shot (the face chosen with `face`, default the largest); a video gives `count`
frames spread over its tracked face. Each shot keeps its whole frame, so an animated face can be
pasted back into it at full resolution.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reanimate.core.errors import UserError
from reanimate.faces.align import Crop, face_box
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.io.image import IMAGE_EXTENSIONS, read_image
from reanimate.io.video import open_video

MARGIN = 0.4  # the crop margin of `reanimate faces prepare`: shots and drivers are framed as in training
DEFAULT_SHOTS = 8
MIN_FACE = 24  # pixels across the landmarks: below this the 68 points are guesses


@dataclass
class Shot:
    """One face of the person: the whole frame and the face's (68, 2) landmarks in frame pixels."""

    frame: np.ndarray
    points: np.ndarray
    source: str

    def crop(self, size: int, margin: float = MARGIN) -> Crop:
        """The square crop around the face, framed as in training, shown at `size` pixels."""
        return Crop(*face_box(self.points, margin), size)

    @property
    def face_size(self) -> float:
        return float(np.ptp(self.points, axis=0).max())


def _photo_shot(path: Path, detector: LandmarkDetector, face: int | None) -> Shot:
    image = read_image(path, "source image")
    gray = image.mean(axis=2).astype(np.uint8)
    boxes = detector.find_faces(gray)
    if not boxes:
        height, width = gray.shape
        small = (f" (the photo is {width}x{height}: faces under about 40 px across are not found)"
                 if min(width, height) < 120 else "")
        raise UserError(f"no face found in {path}{small}: use a photo where the face is visible, upright and large")
    # Largest first: the default subject of a portrait; --face N counts in this order.
    boxes = sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
    if face is None and len(boxes) > 1:
        listing = ", ".join(f"{i}: {int(b[2] - b[0])} px wide at x={int(b[0])}, y={int(b[1])}"
                            for i, b in enumerate(boxes))
        raise UserError(f"{path} shows {len(boxes)} faces ({listing}); choose one with `face` N "
                        "(0 = the largest)")
    index = face or 0
    if not 0 <= index < len(boxes):
        raise UserError(f"`face` {index} but {path} shows {len(boxes)} face(s): use 0 to {len(boxes) - 1}")
    return Shot(image, detector.landmarks(gray, boxes[index]), str(path))


def _video_shots(path: Path, detector: LandmarkDetector, count: int) -> list[Shot]:
    video = open_video(path)
    track = detector.track((f for _, f in video.frames()), total=len(video))
    if not track.found.any():
        raise UserError(f"no face found in any frame of {path}")
    found = np.flatnonzero(track.found)
    chosen = found[np.unique(np.linspace(0, len(found) - 1, min(count, len(found))).round().astype(int))]
    return [Shot(frame, track.points[index], f"{path} frame {index}") for index, frame in video.frames(chosen.tolist())]


def find_shots(sources: list[str | os.PathLike], count: int | None = None, detector: LandmarkDetector | None = None,
               face: int | None = None) -> list[Shot]:
    """`count` shots spread over the faces of photos and videos (photos: one face each, see `face`).

    Args:
        sources: image and video paths of one person.
        count: T, the number of shots wanted; None: what the sources give, at most `DEFAULT_SHOTS`.
        detector: a `LandmarkDetector` to reuse (made if None).
        face: which face of a photo with several (0 = the largest); None refuses such photos.
    """
    if not sources:
        raise UserError("give at least one photo or video of the person (`sources`)")
    if count is not None and count < 1:
        raise UserError(f"`shots` {count} must be at least 1")
    detector = detector or LandmarkDetector()
    shots: list[Shot] = []
    for source in map(Path, sources):
        if not source.exists():
            raise UserError(f"source {source} does not exist")
        if source.suffix.lower() in IMAGE_EXTENSIONS:
            shots.append(_photo_shot(source, detector, face))
        else:
            shots += _video_shots(source, detector, count or DEFAULT_SHOTS)
    if count is None:
        count = min(len(shots), DEFAULT_SHOTS)
    if len(shots) < count:
        raise UserError(f"`shots` {count} but the sources give only {len(shots)} face(s): add photos or lower `shots`")
    small = [s for s in shots if s.face_size < MIN_FACE]
    if small:
        raise UserError(f"the face in {small[0].source} is {small[0].face_size:.0f} px across: at least {MIN_FACE} px "
                        "are needed to animate it; use a larger photo")
    chosen = np.unique(np.linspace(0, len(shots) - 1, count).round().astype(int))
    return [shots[i] for i in chosen]


def crop_shots(shots: list[Shot], size: int) -> tuple[list[Crop], list[np.ndarray], np.ndarray]:
    """Each shot's crop at `size`, the crop images (size, size, 3) and their landmarks (T, 68, 2) in crop pixels."""
    crops = [shot.crop(size) for shot in shots]
    images = [crop.warp(shot.frame) for crop, shot in zip(crops, shots)]
    return crops, images, np.stack([crop.apply(shot.points) for crop, shot in zip(crops, shots)])
