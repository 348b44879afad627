"""The Gaussian-mixture guide (Texler et al. 2020, Sec. 4.2): blobs that move with the video.

Poisson-disk points inside a keyframe's mask, each with a fixed random colour, are carried
through the video by optical flow in both directions from the keyframe. Every frame's guide is
the mixture of blobs exp(-d^2 / sigma^2) of its points on black; concatenated to the network input, it ties
the output to positions that move with the content, which suppresses texture flicker. Points
that leave the frame or fall into occlusions are dropped, and gaps are reseeded with points
that fade in over a few frames, so the guide itself does not flicker. Each frame takes
the points of its nearest keyframe, so several keyframes each guide their part of the video.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.progress import progress
from reanimate.io.flow import FlowField, consistent, warp_by
from reanimate.stylize.data import nearest_key


@dataclass
class Seeds:
    """Points of one keyframe: (N, 2) positions in [0, 1] of the frame, (N, 3) colours in [0, 1]."""

    index: int
    points: np.ndarray
    colours: np.ndarray

    def as_array(self) -> np.ndarray:
        return np.concatenate([self.points, self.colours], axis=1).astype(np.float32)  # (N, 5)

    @classmethod
    def from_array(cls, index: int, array: np.ndarray) -> "Seeds":
        return cls(index, array[:, :2].astype(np.float64), array[:, 2:5].astype(np.float64))


def poisson_disk(allowed: np.ndarray, radius: float, rng: np.random.Generator,
                 taken: np.ndarray | None = None, tries: int = 30) -> np.ndarray:
    """Dart throwing: points at least `radius` apart inside `allowed` (H, W bool), avoiding `taken`.

    Returns (N, 2) float (x, y) pixel positions.
    """
    free = allowed & ~taken if taken is not None else allowed.copy()
    ys, xs = np.nonzero(free)
    if xs.size == 0:
        return np.zeros((0, 2))
    area = xs.size
    candidates = rng.permutation(xs.size)[: min(xs.size, int(tries * area / max(radius ** 2, 1)) + 1)]
    occupied = taken.astype(np.uint8) if taken is not None else np.zeros(free.shape, np.uint8)
    points = []
    r = max(1, int(round(radius)))
    for c in candidates:
        x, y = xs[c], ys[c]
        if not occupied[y, x]:
            points.append((x + rng.random() - 0.5, y + rng.random() - 0.5))
            cv2.circle(occupied, (int(x), int(y)), r, 1, -1)
    return np.clip(np.array(points, dtype=np.float64).reshape(-1, 2), 0, [free.shape[1] - 1, free.shape[0] - 1])


def seed_keyframe(index: int, mask: np.ndarray | None, size: tuple[int, int], radius: float, seed: int) -> Seeds:
    """Poisson-disk points inside keyframe `index`'s mask at frame `size` (W, H), with random colours."""
    width, height = size
    allowed = np.ones((height, width), bool) if mask is None else mask.astype(bool)
    rng = np.random.default_rng([seed, index])
    points = poisson_disk(allowed, radius, rng)
    if len(points) == 0:
        raise UserError(f"the mask of keyframe {index} leaves no room for guide points: paint a larger white region")
    colours = rng.random((len(points), 3))
    return Seeds(index, points / [width - 1 or 1, height - 1 or 1], colours)


FADE_FRAMES = 5  # reseeded points fade in over this many frames instead of popping up


class GaussGuide:
    """Guide images for every frame of a video, from keyframe seeds carried by its optical flow.

    Args:
        flow: the video's `FlowField`.
        seeds: one `Seeds` per keyframe.
        frame_size: (W, H) of the video frames (guides are drawn at this size).
        sigma: blob size in frame pixels (exp(-d^2 / sigma^2)).
        radius: Poisson-disk radius in frame pixels, also the largest gap left unfilled.
        seed: seeds the colours of reseeded points.
    """

    def __init__(self, flow: FlowField, seeds: list[Seeds], frame_size: tuple[int, int], sigma: float = 10.0,
                 radius: float = 10.0, seed: int = 0, show_progress: bool = True):
        if not seeds:
            raise UserError("the gauss guide needs at least one keyframe")
        self.frame_size, self.sigma, self.scale = frame_size, sigma, flow.scale
        self.radius = radius * flow.scale  # tracking works at the flow's resolution
        self.seed = seed
        count = flow.count
        keys = sorted(s.index for s in seeds)
        by_index = {s.index: s for s in seeds}
        # Each frame follows its nearest keyframe (the earlier one on ties).
        owner = [nearest_key(keys, t) for t in range(count)]
        # Per frame: positions (N, 2) at flow resolution, colours (N, 3), ages (N,) in frames.
        self.tracks: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = [None] * count
        work = (flow.width, flow.height)
        with progress(count, "gauss guide", "frame", enabled=show_progress) as bar:
            for key in keys:
                s = by_index[key]
                points = s.points * [work[0] - 1, work[1] - 1]
                region = np.ones((work[1], work[0]), np.uint8)
                ages = np.full(len(points), FADE_FRAMES)
                self.tracks[key] = (points, s.colours, ages)
                bar.update(1)
                for step in (1, -1):
                    track, reg, t = self.tracks[key], region, key
                    while 0 <= t + step < count and owner[t + step] == key:
                        track, reg = self._advance(flow, t, step, track, reg)
                        t += step
                        self.tracks[t] = track
                        bar.update(1)

    def _advance(self, flow: FlowField, t: int, step: int, track, region):
        """Carry points from frame t to t+step, drop lost ones, reseed the gaps."""
        points, colours, ages = track
        if step == 1:
            fwd, bwd = flow.forward(t), flow.backward(t)
            moved, keep = consistent(fwd, bwd, points)
            region = warp_by(region, bwd)  # region_{t+1}(x) = region_t(x + b(x))
        else:
            fwd, bwd = flow.forward(t - 1), flow.backward(t - 1)
            moved, keep = consistent(bwd, fwd, points)
            region = warp_by(region, fwd)
        moved, colours, ages = moved[keep], colours[keep], ages[keep] + 1
        taken = np.zeros(region.shape, np.uint8)
        r = max(1, int(round(self.radius)))
        for x, y in moved.astype(int):
            cv2.circle(taken, (int(x), int(y)), r, 1, -1)
        rng = np.random.default_rng([self.seed, t + step, 7])
        fresh = poisson_disk(region.astype(bool), self.radius, rng, taken.astype(bool))
        if len(fresh):
            moved = np.concatenate([moved, fresh])
            colours = np.concatenate([colours, rng.random((len(fresh), 3))])
            ages = np.concatenate([ages, np.zeros(len(fresh), int)])
        return (moved, colours, ages), region

    def image(self, t: int) -> np.ndarray:
        """The guide of frame t: (H, W, 3) float32 in [0, 1]."""
        points, colours, ages = self.tracks[t]
        weights = np.minimum(1.0, (ages + 1) / FADE_FRAMES)
        return render_blobs(points / self.scale, colours, self.frame_size, self.sigma, weights)


def render_blobs(points: np.ndarray, colours: np.ndarray, size: tuple[int, int], sigma: float,
                 weights: np.ndarray | None = None) -> np.ndarray:
    """The Gaussian mixture of the points: (H, W, 3) float32 in [0, 1].

    Each point i adds a blob g_i(x) = w_i exp(-|x - p_i|^2 / sigma^2). A pixel's colour is the
    blob-weighted mean of the point colours and its brightness min(1, sum_i g_i), so areas without
    points stay black and a point fading in or out (w_i between 0 and 1) changes the image smoothly.
    Points are splatted bilinearly (sub-pixel positions kept) and blurred once: cost scales with
    the image, not with the number of points.
    """
    width, height = size
    weights = np.ones(len(points)) if weights is None else np.asarray(weights, np.float64)
    layers = np.zeros((height, width, 4), np.float32)  # colour * weight (3) and weight (1)
    if len(points):
        x = np.clip(points[:, 0], 0, width - 1)
        y = np.clip(points[:, 1], 0, height - 1)
        x0, y0 = np.minimum(np.floor(x).astype(int), width - 2), np.minimum(np.floor(y).astype(int), height - 2)
        x0, y0 = np.maximum(x0, 0), np.maximum(y0, 0)
        fx, fy = x - x0, y - y0
        values = np.concatenate([colours * weights[:, None], weights[:, None]], axis=1)  # (N, 4)
        for dy, dx, share in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
            np.add.at(layers, (np.minimum(y0 + dy, height - 1), np.minimum(x0 + dx, width - 1)), values * share[:, None])
    # exp(-d^2 / sigma^2) is a Gaussian of standard deviation sigma / sqrt(2), with peak 1 after
    # scaling the unit-sum kernel by pi * sigma^2.
    std = sigma / np.sqrt(2)
    blurred = cv2.GaussianBlur(layers, (0, 0), std, borderType=cv2.BORDER_CONSTANT) * (np.pi * sigma ** 2)
    weight_sum = blurred[..., 3]
    mean_colour = blurred[..., :3] / np.maximum(weight_sum, 1e-6)[..., None]
    return np.clip(mean_colour, 0, 1) * np.minimum(weight_sum, 1.0)[..., None]
