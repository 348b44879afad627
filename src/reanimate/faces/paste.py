"""Paste an animated face crop back into the full frame it came from (as LivePortrait does).

The crop is a scale + shift of the frame (`faces.align.Crop`): the face goes back through the
inverse transform, blended with a feathered mask around the face and forehead. Where the mask is
zero the output is the frame's own pixels, exactly.
"""

import cv2
import numpy as np

from reanimate.faces.align import Crop
from reanimate.faces.blend import match_colours
from reanimate.faces.warp import head_hull, polygon_mask


def head_mask(points: list[np.ndarray], size: int, feather: float = 0.03) -> np.ndarray:
    """(size, size) float32 mask over the head of every (68, 2) landmark set in `points` (where the
    face is and where it was): the face, the forehead and the ring around the head that the warp
    moves with it (hair, ears), feathered by `feather` x size and faded out towards the crop's
    border, where the crop meets the rest of the frame."""
    mask = np.zeros((size, size), np.float32)
    for p in points:
        mask = np.maximum(mask, polygon_mask(head_hull(p), (size, size)))
    mask = cv2.GaussianBlur(mask, (0, 0), feather * size)
    ramp = np.clip(np.minimum(np.arange(size), np.arange(size)[::-1]) / (0.08 * size), 0, 1).astype(np.float32)
    return mask * ramp[:, None] * ramp[None, :]


def paste_face(frame: np.ndarray, face: np.ndarray, crop: Crop, target: np.ndarray, source: np.ndarray,
               match: np.ndarray | None = None) -> np.ndarray:
    """Paste an animated face crop whose landmarks moved from `source` to `target` (68, 2; crop pixels)
    back into `frame`, over the head where it is and where it was (see `paste_back` for `match`)."""
    return paste_back(frame, face, crop, head_mask([target, source], face.shape[0]), match)


def paste_back(frame: np.ndarray, face: np.ndarray, crop: Crop, mask: np.ndarray,
               match: np.ndarray | None = None) -> np.ndarray:
    """`frame` (H, W, 3) with `face` (S, S, 3), the content of `crop`, blended in through `mask` (S, S).

    Args:
        match: the frame's own crop (S, S, 3): the face's colours in the mask are matched to it first
            (for faces drawn by a network or taken from another shot).
    """
    size = face.shape[0]
    if crop.size != size:
        crop = Crop(crop.cx, crop.cy, crop.side, size)
    if match is not None:
        face = match_colours(face, match, mask)
    height, width = frame.shape[:2]
    inverse = cv2.invertAffineTransform(crop.matrix)
    big_face = cv2.warpAffine(face, inverse, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    big_mask = cv2.warpAffine(mask, inverse, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)[..., None]
    out = frame.astype(np.float32)
    out += big_mask * (big_face.astype(np.float32) - out)  # zero mask: the frame's pixel, unchanged
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
