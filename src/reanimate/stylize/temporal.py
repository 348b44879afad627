"""Temporally filtered input (Texler et al. 2020, Sec. 4.2): a flow-aligned temporal bilateral filter.

Frame t is replaced by a weighted mean of frames t-N..t+N warped onto it along the optical flow;
weights fall with temporal distance (Gaussian, sigma_t frames) and with colour difference after
warping (Gaussian, sigma_c), so misaligned or occluded pixels hardly contribute. Noise and
grain that the network would turn into flicker are averaged out; edges that move are kept.
"""

from collections import OrderedDict
from typing import Iterable, Iterator

import cv2
import numpy as np

from reanimate.io.flow import FlowField, pixel_grid, resize_flow, warp_by
from reanimate.io.video import Video


class _Window:
    """Decoded frames and flows near the current frame; old ones are evicted."""

    def __init__(self, video: Video, flow: FlowField, capacity: int):
        self.video, self.flow, self.capacity = video, flow, capacity
        self.frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self.flows: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._reader = None
        self._next = 0

    def frame(self, t: int) -> np.ndarray:
        if t not in self.frames:
            if self._reader is None or t < self._next:
                self._reader, self._next = self.video.frames(range(t, len(self.video))), t
            for index, frame in self._reader:
                self._next = index + 1
                self._remember(self.frames, index, frame.astype(np.float32))
                if index == t:
                    break
        return self.frames[t]

    def field(self, kind: str, t: int) -> np.ndarray:
        key = (kind, t)
        if key not in self.flows:
            self._remember(self.flows, key, self.flow.forward(t) if kind == "fwd" else self.flow.backward(t))
        return self.flows[key]

    def _remember(self, store: OrderedDict, key, value) -> None:
        store[key] = value
        while len(store) > self.capacity:
            store.popitem(last=False)


def filtered_frames(video: Video, flow: FlowField, indices: Iterable[int] | None = None, radius: int = 15,
                    sigma_t: float = 5.0, sigma_c: float = 0.1) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield (index, original frame, filtered frame), RGB uint8, for the requested frames in index order.

    Args:
        radius: N, frames on each side.
        sigma_t: temporal Gaussian, in frames.
        sigma_c: colour Gaussian, as a fraction of the full range (0.1 = 25 levels).
    """
    window = _Window(video, flow, capacity=4 * radius + 4)
    wanted = range(len(video)) if indices is None else sorted(set(indices))
    h, w = flow.height, flow.width
    grid = pixel_grid(h, w)
    colour_scale = 1.0 / (2 * (sigma_c * 255.0) ** 2)
    for t in wanted:
        centre = window.frame(t)
        total = centre.copy()
        weights = np.ones(centre.shape[:2], np.float32)
        for step, kind in ((1, "fwd"), (-1, "bwd")):
            displacement = np.zeros((h, w, 2), np.float32)  # frame t -> frame t + j, at flow resolution
            for j in range(1, radius + 1):
                s = t + step * j
                if not 0 <= s < len(video):
                    break
                # Chain one more step: d_j(x) = d_{j-1}(x) + flow_{s-1 -> s}(x + d_{j-1}(x)).
                one = window.field(kind, s - 1 if step == 1 else s)
                displacement = displacement + cv2.remap(one, grid + displacement, None, cv2.INTER_LINEAR,
                                                        borderMode=cv2.BORDER_REPLICATE)
                full = resize_flow(displacement, video.width, video.height)
                warped = warp_by(window.frame(s), full, border=cv2.BORDER_REFLECT)
                inside = _inside(full)
                difference = np.sum((warped - centre) ** 2, axis=2) / 3.0
                weight = np.exp(-j * j / (2 * sigma_t ** 2)) * np.exp(-difference * colour_scale) * inside
                total += warped * weight[..., None]
                weights += weight
        yield t, centre.astype(np.uint8), np.clip(total / weights[..., None] + 0.5, 0, 255).astype(np.uint8)


def _inside(flow: np.ndarray) -> np.ndarray:
    """1 where x + flow(x) lands inside the frame."""
    h, w = flow.shape[:2]
    xs = np.arange(w, dtype=np.float32)[None, :] + flow[..., 0]
    ys = np.arange(h, dtype=np.float32)[:, None] + flow[..., 1]
    return ((xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)).astype(np.float32)
