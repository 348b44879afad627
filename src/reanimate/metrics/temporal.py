"""Temporal stability of a stylized video: the flow-warped error between consecutive output frames.

For output frames O_t and O_{t+1} and the input video's flow f from t to t+1, the warping error
(Lai et al. 2018) is the mean over non-occluded pixels of ||O_t(x) - O_{t+1}(x + f(x))||^2, with
colours in [0, 1]. Flicker raises it; a perfectly stable output that moves with the input
scores 0. Occlusions are found by the forward-backward flow check.
"""

from typing import Iterator

import cv2
import numpy as np

from reanimate.core.errors import UserError
from reanimate.io.flow import FlowField, resize_flow, trace_grid, warp_by
from reanimate.io.video import Video


def occlusion_free(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """(h, w) bool: pixels of frame t that stay visible in frame t+1 (forward-backward flow check)."""
    return trace_grid(forward, backward)[2]


def warping_errors(outputs: Video, flow: FlowField) -> Iterator[tuple[int, float]]:
    """Yield (t, error between output t and t+1) for every consecutive pair."""
    if outputs.num_frames != flow.count:
        raise UserError(f"the output has {outputs.num_frames} frames but the video has {flow.count}: "
                        "temporal error compares every output frame with its input frame")
    previous = None
    for t, frame in outputs.frames():
        current = frame.astype(np.float32) / 255.0
        if previous is not None:
            forward = flow.forward(t - 1)
            valid = occlusion_free(forward, flow.backward(t - 1)).astype(np.uint8)
            full = resize_flow(forward, outputs.width, outputs.height)
            valid = cv2.resize(valid, (outputs.width, outputs.height), interpolation=cv2.INTER_NEAREST).astype(bool)
            warped = warp_by(current, full, border=cv2.BORDER_REPLICATE)
            squared = np.sum((previous - warped) ** 2, axis=2)  # (H, W)
            yield t - 1, float(squared[valid].mean()) if valid.any() else 0.0
        previous = current
