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

CUT_FRACTION = 0.2  # less of a frame found again in the next than this: a scene cut
CUT_COLOUR = 30.0  # input levels (RMS over channels) a traced pixel may change by and still be the same place


def found_again(valid: np.ndarray, squared: np.ndarray) -> float:
    """How much of frame t is found in frame t+1: pixels traced by the flow, weighted by how alike they
    stay in colour (`squared`: summed squared change of colours in [0, 1]). Under CUT_FRACTION: a cut."""
    levels = squared * (255.0 ** 2 / 3.0)  # mean squared change per channel, in input levels
    return float((valid * np.exp(levels * (-1.0 / (2 * CUT_COLOUR ** 2)))).mean())


def occlusion_free(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """(h, w) bool: pixels of frame t that stay visible in frame t+1 (forward-backward flow check)."""
    return trace_grid(forward, backward)[2]


def warping_errors(outputs: Video, flow: FlowField) -> Iterator[tuple[int, float, float]]:
    """Yield (t, error between output t and t+1, how much of t is found in t+1) for every consecutive
    pair; the last says whether the pair is a scene cut when `outputs` is the footage itself."""
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
            yield t - 1, float(squared[valid].mean()) if valid.any() else 0.0, found_again(valid, squared)
        previous = current
