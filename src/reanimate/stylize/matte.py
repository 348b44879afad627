"""Where each frame is painted: the keyframes' masks carried along the optical flow, so the restyled
frames can be written as a layer with alpha and composited over the original in an editor.

A frame takes the mask of its nearest keyframe (a keyframe without a mask was painted whole),
moved frame by frame along the cached DIS flow at the flow's resolution and thresholded at each
step so it does not blur away over hundreds of frames; it is scaled to the frame and feathered by
about a pixel at the end. Frames are asked for in order: after a keyframe the mask is carried
forward one step a frame; before one, the run back from the keyframe is made once and kept packed
(a bit a pixel).
"""

import cv2
import numpy as np

from reanimate.io.flow import FlowField, warp_by
from reanimate.stylize.data import Keyframe


class Matte:
    """Alpha (H, W) uint8 per frame index: 255 where the keyframes' painted regions went, 0 elsewhere.

    Args:
        keyframes: the painted keyframes; their `mask` (None: painted whole).
        flow: the video's flow (`io.flow.compute_flow`).
        size: the frames' (width, height).
    """

    def __init__(self, keyframes: list[Keyframe], flow: FlowField, size: tuple[int, int]):
        self.flow, self.size = flow, size
        working = (flow.width, flow.height)
        self.keys = {k.index: self._working(k.mask, working) for k in sorted(keyframes, key=lambda k: k.index)}
        self._ahead: tuple[int, np.ndarray] | None = None  # (frame, mask) of the last forward step
        self._behind: dict[int, np.ndarray] = {}  # frame -> packed mask, the run back to a keyframe
        self._shape = (flow.height, flow.width)

    @staticmethod
    def _working(mask: np.ndarray | None, working: tuple[int, int]) -> np.ndarray:
        if mask is None:
            return np.ones(working[::-1], bool)
        return cv2.resize(mask.astype(np.float32), working, interpolation=cv2.INTER_AREA) >= 0.5

    def nearest_key(self, index: int) -> int:
        """The keyframe a frame's mask comes from: the nearest in time (the earlier one on a tie)."""
        return min(self.keys, key=lambda k: (abs(k - index), k))

    def __call__(self, index: int) -> np.ndarray:
        key = self.nearest_key(index)
        mask = self._forward(key, index) if index >= key else self._backward(key, index)
        return self._at_frame_size(mask)

    def _step(self, mask: np.ndarray, flow: np.ndarray) -> np.ndarray:
        # Replicated borders: a mask touching the frame's edge stays on what comes into view there.
        moved = warp_by(mask.astype(np.float32), flow, border=cv2.BORDER_REPLICATE)
        return moved >= 0.5

    def _forward(self, key: int, index: int) -> np.ndarray:
        if self._ahead is not None and self.nearest_key(self._ahead[0]) == key and key <= self._ahead[0] <= index:
            at, mask = self._ahead
        else:
            at, mask = key, self.keys[key]
        for t in range(at, index):  # frame t+1's pixels look back into frame t
            mask = self._step(mask, self.flow.backward(t))
        self._ahead = (index, mask)
        return mask

    def _backward(self, key: int, index: int) -> np.ndarray:
        if index not in self._behind:
            self._behind, mask = {}, self.keys[key]
            first = min(t for t in range(index + 1) if self.nearest_key(t) == key)
            for t in range(key - 1, first - 1, -1):  # frame t's pixels look ahead into frame t+1
                mask = self._step(mask, self.flow.forward(t))
                self._behind[t] = np.packbits(mask)
        return np.unpackbits(self._behind[index], count=int(np.prod(self._shape))).reshape(self._shape).astype(bool)

    def _at_frame_size(self, mask: np.ndarray) -> np.ndarray:
        alpha = cv2.resize(mask.astype(np.float32), self.size, interpolation=cv2.INTER_LINEAR)
        feather = max(1.0, 0.5 / self.flow.scale)  # about a working pixel: edges the flow cannot place finer
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather)
        return np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)


def with_alpha(frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """An RGB frame (uint8 or uint16) and an alpha (H, W) uint8 as one RGBA frame of the frame's depth."""
    if frame.dtype == np.uint16:
        alpha = alpha.astype(np.uint16) * 257
    return np.dstack([frame, alpha])
