"""Square face crops around the landmarks, steady over time (as VoxCeleb's face tracks are cropped).

A crop is a similarity transform (scale + shift) from source pixels to an S x S image; points go
through the same transform, so landmarks stay exact in the crop and can be mapped back.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from reanimate.faces.landmarks import points_box, smooth_over_time


@dataclass(frozen=True)
class Crop:
    """A square region of a source frame: centre (cx, cy) and side, in source pixels, shown at `size`."""

    cx: float
    cy: float
    side: float
    size: int

    @property
    def scale(self) -> float:
        return self.size / self.side

    @property
    def matrix(self) -> np.ndarray:
        """(2, 3) affine matrix, source point -> crop point, as cv2.warpAffine reads it; the box's left
        edge cx - side/2 maps to 0 and its right edge to `size`."""
        s = self.scale
        return np.array([[s, 0.0, -(self.cx - self.side / 2) * s],
                         [0.0, s, -(self.cy - self.side / 2) * s]])

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Source pixel coordinates (..., 2) -> crop coordinates."""
        m = self.matrix
        return (points @ m[:, :2].T + m[:, 2]).astype(np.float32)

    def invert(self, points: np.ndarray) -> np.ndarray:
        """Crop coordinates (..., 2) -> source pixel coordinates."""
        m = self.matrix
        return ((points - m[:, 2]) / self.scale).astype(np.float32)

    def warp(self, frame: np.ndarray) -> np.ndarray:
        """The crop as RGB uint8 (size, size, 3); outside the frame the edge pixels are repeated."""
        m = self.matrix
        if self.scale < 0.8:
            # Shrinking a lot: area-average first so the crop does not alias, then warp the rest.
            # cv2.resize maps a source point p to (p + 0.5) * pre - 0.5; undo that in the matrix.
            pre = self.scale / 0.8
            frame = cv2.resize(frame, None, fx=pre, fy=pre, interpolation=cv2.INTER_AREA)
            m = m.copy()
            m[:, 2] += m[:, :2].diagonal() * (0.5 / pre - 0.5)
            m[:, :2] /= pre
        return cv2.warpAffine(frame, m, (self.size, self.size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)


def face_box(points: np.ndarray, margin: float) -> np.ndarray:
    """(cx, cy, side) of a square around (68, 2) landmarks.

    The landmarks run from the brows to the chin; the box is moved up by a tenth of the face height
    to take in the forehead, and widened by `margin` of the face size on each side.
    """
    x0, y0, x1, y1 = points_box(points)
    face = max(x1 - x0, y1 - y0)
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2 - 0.1 * (y1 - y0), face * (1 + 2 * margin)])


def stable_crops(points: np.ndarray, found: np.ndarray, size: int = 256, margin: float = 0.4,
                 sigma: float = 4.0) -> list[Crop | None]:
    """One crop per frame, with centre and side smoothed over time (sigma in frames) so the
    background does not shake; None where the face was not found.

    Args:
        points: (N, 68, 2) landmarks; found: (N,) bool.
        size: side of the output crops in pixels.
        margin: extra space on each side, as a fraction of the face size.
        sigma: temporal smoothing of the box in frames (0 = a box per frame).
    """
    boxes = np.full((len(found), 3), np.nan)
    for index in np.flatnonzero(found):
        boxes[index] = face_box(points[index], margin)
    boxes = smooth_over_time(boxes, found, sigma)
    return [Crop(float(b[0]), float(b[1]), float(b[2]), size) if ok else None for b, ok in zip(boxes, found)]


def resize_crop(image: np.ndarray, points: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A square crop and its landmarks at another side length (pixel centres kept aligned)."""
    if image.shape[0] == size:
        return image, points
    scale = size / image.shape[0]
    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return image, (points + 0.5) * scale - 0.5


def fixed_crop(points: np.ndarray, found: np.ndarray, size: int = 256, margin: float = 0.4) -> Crop:
    """One crop for a whole video: the median of its per-frame face boxes. Landmarks in it keep the
    head's movement in the frame, which per-frame (or smoothed) crops take out."""
    boxes = np.stack([face_box(points[i], margin) for i in np.flatnonzero(found)])
    cx, cy, side = np.median(boxes, axis=0)
    return Crop(float(cx), float(cy), float(side), size)
