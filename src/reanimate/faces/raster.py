"""The 68 facial landmarks (iBUG 300-W order) drawn as the generator's input image.

Zakharov et al. (Sec. 3) rasterize landmarks as coloured line segments, one colour per face part,
so the network can tell a lip from a jaw line. Lines are anti-aliased and placed with sub-pixel
precision, so a slowly moving face gives a smoothly changing picture at any size.
"""

from typing import NamedTuple

import cv2
import numpy as np

NUM_LANDMARKS = 68
SUBPIXEL_BITS = 4  # cv2 drawing with 1/16-pixel coordinates


class Part(NamedTuple):
    name: str
    indices: tuple[int, ...]
    closed: bool
    colour: tuple[int, int, int]  # RGB


PARTS: tuple[Part, ...] = (
    Part("jaw", tuple(range(0, 17)), False, (255, 255, 255)),
    Part("right_brow", tuple(range(17, 22)), False, (255, 128, 0)),
    Part("left_brow", tuple(range(22, 27)), False, (255, 210, 0)),
    Part("nose_bridge", tuple(range(27, 31)), False, (0, 200, 255)),
    Part("nose_base", tuple(range(31, 36)), False, (0, 90, 255)),
    Part("right_eye", tuple(range(36, 42)), True, (0, 230, 90)),
    Part("left_eye", tuple(range(42, 48)), True, (140, 255, 60)),
    Part("outer_lip", tuple(range(48, 60)), True, (255, 40, 90)),
    Part("inner_lip", tuple(range(60, 68)), True, (200, 60, 255)),
)


def default_thickness(width: int, height: int) -> int:
    """About 2 px at the paper's 256x256, scaled with the image."""
    return max(1, round(2 * min(width, height) / 256))


def draw_landmarks(points: np.ndarray, size: tuple[int, int], thickness: int | None = None,
                   image: np.ndarray | None = None) -> np.ndarray:
    """Rasterize 68 landmarks as coloured, anti-aliased line segments per face part.

    Args:
        points: (68, 2) pixel coordinates (x, y) in an image of `size`; NaN (no face) draws nothing.
        size: (width, height) of the picture.
        thickness: line width in pixels (default: ~2 px at 256x256, scaled with the size).
        image: draw over this RGB uint8 image (a copy is made) instead of black.

    Returns:
        RGB uint8 (height, width, 3).

    Example:
        >>> picture = draw_landmarks(track.points[0], (256, 256))
    """
    width, height = size
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (NUM_LANDMARKS, 2):
        raise ValueError(f"expected (68, 2) landmarks, got {points.shape}")
    canvas = np.zeros((height, width, 3), np.uint8) if image is None else np.ascontiguousarray(image).copy()
    if not np.isfinite(points).all():
        return canvas
    thickness = thickness or default_thickness(width, height)
    fixed = np.round(points * (1 << SUBPIXEL_BITS)).astype(np.int32)  # (68, 2) in 1/16 px
    for part in PARTS:
        cv2.polylines(canvas, [fixed[list(part.indices)]], part.closed, part.colour, thickness,
                      cv2.LINE_AA, SUBPIXEL_BITS)
    return canvas
