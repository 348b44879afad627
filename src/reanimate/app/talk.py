"""One page's talking-head work, without any web framework: photos of a person, a driver, exports.

The studio's "Talking head" tab calls this; it runs the same `animate` as `reanimate talk animate`
and the same `LivePuppet` as nothing else (the webcam exists only here).
"""

import threading
from pathlib import Path

import numpy as np

from reanimate.core.errors import UserError
from reanimate.faces.landmarks import LandmarkDetector
from reanimate.faces.motion import DEFAULT_MOTION
from reanimate.faces.shots import find_shots
from reanimate.talking_head.animate import animate, warp_size
from reanimate.talking_head.live import LivePuppet
from reanimate.talking_head.options import AnimateOptions


class TalkingHead:
    """Photos of one person and what the page made from them.

    Args:
        folder: this page's own folder; exports go to `folder`/exports.
        device: for a model's generator.

    Example:
        >>> talk = TalkingHead("work/session/talk")
        >>> talk.set_photos(["me.jpg"])
        >>> talk.animate("speech.mp4", "relative")   # (mp4 path, summary)
    """

    def __init__(self, folder: str | Path, device: str = "auto"):
        self.folder, self.device = Path(folder), device
        self.photos: list[Path] = []
        self.face: int | None = None
        self._detector: LandmarkDetector | None = None  # made on first use: loading dlib's models takes a moment
        self._puppet: LivePuppet | None = None
        self._lock = threading.Lock()  # the camera streams frames from several threads

    @property
    def detector(self) -> LandmarkDetector:
        if self._detector is None:
            self._detector = LandmarkDetector()
        return self._detector

    def set_photos(self, paths: list[str | Path], face: int | None = None) -> str:
        """Check that the photos show a usable face (and which one); returns a one-line summary."""
        paths = [Path(p) for p in paths]
        if not paths:
            raise UserError("upload a photo of the person first")
        shots = find_shots(paths, None, self.detector, face)  # clear errors now, not at Animate
        with self._lock:
            self.photos, self.face, self._puppet = paths, face, None
        height, width = shots[0].frame.shape[:2]
        return (f"{len(shots)} shot(s); the face is {shots[0].face_size:.0f} px across in a {width}x{height} "
                "photo: the result keeps that size")

    def need_photos(self) -> list[Path]:
        if not self.photos:
            raise UserError("upload a photo of the person first (and press Use these photos)")
        return self.photos

    def animate(self, driver: str | Path, motion: str = DEFAULT_MOTION, model: str | Path | None = None,
                side_by_side: bool = False, show_progress: bool = True) -> tuple[Path, str]:
        """Animate the photos with `driver` into an mp4 of the photo's size; returns (path, summary)."""
        photos = self.need_photos()
        out = self.folder / "exports" / "talking-head.mp4"
        out.parent.mkdir(parents=True, exist_ok=True)
        options = AnimateOptions(motion=motion, face=self.face, side_by_side=side_by_side)
        result = animate(model or None, photos, driver, out, options, device=self.device, overwrite=True,
                         show_progress=show_progress)
        width, height = result["output_size"]
        summary = (f"{result['frames']} frames of {width}x{height} ({result['path']}, {motion} motion)"
                   + (f"; the driver's face was missing in {result['driver_frames_without_face']} frames"
                      if result["driver_frames_without_face"] else ""))
        return out, summary

    def live(self, frame: np.ndarray, motion: str = "relative") -> np.ndarray:
        """The photo moved like the face in one camera frame."""
        photos = self.need_photos()
        with self._lock:
            if self._puppet is None or self._puppet.motion != motion:
                shots = find_shots(photos, None, self.detector, self.face)
                self._puppet = LivePuppet(shots, warp_size(shots[0]), motion, self.detector)
            return self._puppet(frame)
