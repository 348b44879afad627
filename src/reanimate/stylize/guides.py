"""The Gaussian-mixture guide (Texler et al. 2020, Sec. 4.2): blobs that move with the video.

Poisson-disk points inside a keyframe's mask, each with a fixed random colour, are carried
through the video by optical flow in both directions from the keyframe. Every frame's guide is
the blobs exp(-d^2 / sigma^2) of its points on black; concatenated to the network input, it ties
the output to positions that move with the content, which suppresses texture flicker. Points
that leave the frame or fall into occlusions are dropped, and gaps are reseeded. Each frame takes
the points of its nearest keyframe, so several keyframes each guide their part of the video.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.progress import progress
from reanimate.stylize.flow import FlowField, consistent, warp_by


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
        owner = [min(keys, key=lambda k: (abs(k - t), k)) for t in range(count)]
        self.tracks: list[tuple[np.ndarray, np.ndarray] | None] = [None] * count
        work = (flow.width, flow.height)
        with progress(count, "gauss guide", "frame", enabled=show_progress) as bar:
            for key in keys:
                s = by_index[key]
                points = s.points * [work[0] - 1, work[1] - 1]
                region = np.ones((work[1], work[0]), np.uint8)
                self.tracks[key] = (points, s.colours)
                bar.update(1)
                for step in (1, -1):
                    pts, cols, reg, t = points, s.colours, region, key
                    while 0 <= t + step < count and owner[t + step] == key:
                        pts, cols, reg = self._advance(flow, t, step, pts, cols, reg)
                        t += step
                        self.tracks[t] = (pts, cols)
                        bar.update(1)

    def _advance(self, flow: FlowField, t: int, step: int, points, colours, region):
        """Carry points from frame t to t+step, drop lost ones, reseed the gaps."""
        if step == 1:
            fwd, bwd = flow.forward(t), flow.backward(t)
            moved, keep = consistent(fwd, bwd, points)
            region = warp_by(region, bwd)  # region_{t+1}(x) = region_t(x + b(x))
        else:
            fwd, bwd = flow.forward(t - 1), flow.backward(t - 1)
            moved, keep = consistent(bwd, fwd, points)
            region = warp_by(region, fwd)
        moved, colours = moved[keep], colours[keep]
        taken = np.zeros(region.shape, np.uint8)
        r = max(1, int(round(self.radius)))
        for x, y in moved.astype(int):
            cv2.circle(taken, (int(x), int(y)), r, 1, -1)
        rng = np.random.default_rng([self.seed, t + step, 7])
        fresh = poisson_disk(region.astype(bool), self.radius, rng, taken.astype(bool))
        if len(fresh):
            moved = np.concatenate([moved, fresh])
            colours = np.concatenate([colours, rng.random((len(fresh), 3))])
        return moved, colours, region

    def image(self, t: int) -> np.ndarray:
        """The guide of frame t: (H, W, 3) float32 in [0, 1]."""
        points, colours = self.tracks[t]
        return render_blobs(points / self.scale, colours, self.frame_size, self.sigma)


def render_blobs(points: np.ndarray, colours: np.ndarray, size: tuple[int, int], sigma: float) -> np.ndarray:
    """Each pixel takes the colour of its nearest point times exp(-d^2 / sigma^2): (H, W, 3) float32."""
    width, height = size
    out = np.zeros((height, width, 3), np.float32)
    if len(points) == 0:
        return out
    xs = np.clip(np.round(points[:, 0]).astype(int), 0, width - 1)
    ys = np.clip(np.round(points[:, 1]).astype(int), 0, height - 1)
    canvas = np.ones((height, width), np.uint8)
    canvas[ys, xs] = 0
    # One pass gives every pixel its distance to, and the label of, the nearest point.
    distance, labels = cv2.distanceTransformWithLabels(canvas, cv2.DIST_L2, cv2.DIST_MASK_PRECISE,
                                                       labelType=cv2.DIST_LABEL_PIXEL)
    colour_of_label = np.zeros((labels.max() + 1, 3), np.float32)
    colour_of_label[labels[ys, xs]] = colours
    weight = np.exp(-(distance ** 2) / sigma ** 2)[..., None]
    return colour_of_label[labels] * weight
