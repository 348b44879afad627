"""Where each frame is painted: the keyframes' masks carried along the optical flow, so the restyled
frames can be written as a layer with alpha and composited over the original in an editor.

A frame takes the mask of its nearest keyframe. What is carried from frame to frame is not the
mask but where each pixel came from in the keyframe (the flows composed, at the flow's
resolution): the keyframe's mask is looked up there once per frame, so sub-pixel motion adds up
(a mask re-thresholded at every step would stay put under half a pixel a frame) and the edge does
not blur over hundreds of frames. It is scaled to the frame and feathered by about a pixel. Frames
are asked for in order: after a keyframe the map is carried forward one step a frame; before one,
the run back from the keyframe is made once and its masks kept packed (a bit a pixel).
"""

import cv2
import numpy as np

from reanimate.io.flow import FlowField, pixel_grid
from reanimate.stylize.data import nearest_key


class Matte:
    """Alpha (H, W) uint8 per frame index: 255 where the keyframes' painted regions went, 0 elsewhere.

    Args:
        masks: {keyframe index: (H, W) bool mask of what it paints}.
        flow: the video's flow (`io.flow.compute_flow`).
        size: the frames' (width, height).
    """

    def __init__(self, masks: dict[int, np.ndarray], flow: FlowField, size: tuple[int, int]):
        self.flow, self.size = flow, size
        working = (flow.width, flow.height)
        self.keys = {index: cv2.resize(mask.astype(np.float32), working, interpolation=cv2.INTER_AREA)
                     for index, mask in sorted(masks.items())}
        self._grid = pixel_grid(flow.height, flow.width)
        self._ahead: tuple[int, np.ndarray] | None = None  # (frame, where its pixels were in its keyframe)
        self._behind: dict[int, np.ndarray] = {}  # frame -> packed mask, the run back to a keyframe
        self._shape = (flow.height, flow.width)

    def __call__(self, index: int) -> np.ndarray:
        key = nearest_key(self.keys, index)
        mask = self._forward(key, index) if index >= key else self._backward(key, index)
        return self._at_frame_size(mask)

    def _step(self, where: np.ndarray, flow: np.ndarray) -> np.ndarray:
        # Replicated borders: what comes into view at the frame's edge takes the edge's origin.
        return cv2.remap(where, self._grid + flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def _mask(self, key: int, where: np.ndarray) -> np.ndarray:
        return cv2.remap(self.keys[key], where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) >= 0.5

    def _forward(self, key: int, index: int) -> np.ndarray:
        ahead = self._ahead
        if ahead is not None and nearest_key(self.keys, ahead[0]) == key and key <= ahead[0] <= index:
            at, where = ahead
        else:
            at, where = key, self._grid
        for t in range(at, index):  # frame t+1's pixels look back into frame t
            where = self._step(where, self.flow.backward(t))
        self._ahead = (index, where)
        return self._mask(key, where)

    def _backward(self, key: int, index: int) -> np.ndarray:
        if index not in self._behind:
            self._behind, where = {}, self._grid
            for t in range(key - 1, index - 1, -1):  # frame t's pixels look ahead into frame t+1
                where = self._step(where, self.flow.forward(t))
                self._behind[t] = np.packbits(self._mask(key, where))
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
