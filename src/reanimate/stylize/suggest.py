"""Which frames to paint: the keyframes that together cover the most of a video.

A key covers a place of another frame when that place can be traced back to the key along the
cached optical flow, every step passing the forward-backward check (not occluded), and still looks
like it did in the key (mean colour difference under `tolerance`): there, the painted colours apply.
Coverage is measured on a coarse grid of cells, per key and frame, going forward and backward in
time from the key. Keys are picked greedily, each adding the most cells not yet covered; greedy
covering is within 1 - 1/e of the best set and, unlike the best set, gives a nested curve: the first
N keys for any N, so the user sees when one more key stops paying.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from reanimate.core.progress import progress
from reanimate.io.flow import FlowField, pixel_grid, trace_grid
from reanimate.io.video import Video

GRID_SIDE = 48  # cells along the longer side
MAX_CANDIDATES = 300  # keys considered; longer videos are sampled evenly
MAX_MEASURED = 600  # frames whose coverage is kept (the flow is followed through every frame)
MIN_GAIN = 0.05  # one more key that adds less than this share of the video is not suggested
FEW_COVERED = 0.5  # painted keys that cover less of the video than this get a word before training


@dataclass
class Suggestion:
    """The chosen keys, best first, and what they cover.

    `keys[:n]` is the best n found; `coverage[n - 1]` is the share of the whole video (all frames,
    all cells) they cover; `per_frame[n - 1, i]` is the share of frame `measured[i]`.
    """
    keys: list[int]
    coverage: list[float]
    per_frame: np.ndarray  # (len(keys), len(measured)) float32
    measured: list[int]  # the frames measured: every one, or every n-th of a long video
    count: int  # how many keys are suggested: where one more stops paying (or what was asked)

    @property
    def chosen(self) -> list[int]:
        return sorted(self.keys[:self.count])

    def farthest(self, n: int = 3) -> list[int]:
        """The frames the chosen keys cover least: where to look first in the previews."""
        order = np.argsort(self.per_frame[self.count - 1], kind="stable")[:n]
        return sorted(self.measured[i] for i in order)


def _small(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def _shrink_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Flow averaged over each cell (not sampled: a cell's motion is its pixels' mean) in cell units."""
    small = cv2.resize(flow, size, interpolation=cv2.INTER_AREA)
    small[..., 0] *= size[0] / flow.shape[1]
    small[..., 1] *= size[1] / flow.shape[0]
    return small


def _step(maps: np.ndarray, flow: np.ndarray, back: np.ndarray, grid: np.ndarray, slack: float) -> np.ndarray:
    """Carry (h, w, C) maps one frame along `flow` (from the new frame to the old one); cells whose
    flow the opposite flow does not undo (occluded: the check of Sundaram et al. 2010, as in
    `io.flow.consistent`, its constant in cell units) or that leave the frame are dropped."""
    target, _, keep = trace_grid(flow, back, slack, grid)
    carried = cv2.remap(maps, target, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    carried[..., 0] *= keep
    return carried


def coverage_matrix(video: Video, flow: FlowField, tolerance: float = 24.0, candidates: list[int] | None = None,
                    show_progress: bool = True) -> tuple[list[int], np.ndarray]:
    """(candidate keys, (keys, measured frames, cells) bool): which cells of each frame each key covers.

    On videos longer than MAX_MEASURED frames, every `stride`-th frame is measured (memory stays bounded).
    """
    frames = video.num_frames
    stride = -(-frames // MAX_MEASURED)
    scale = GRID_SIDE / max(flow.width, flow.height)
    size = (max(4, round(flow.width * scale)), max(4, round(flow.height * scale)))
    grid, slack = pixel_grid(size[1], size[0]), 0.5 * scale ** 2
    forward = [_shrink_flow(flow.forward(t), size) for t in range(frames - 1)]
    backward = [_shrink_flow(flow.backward(t), size) for t in range(frames - 1)]
    colours = [_small(frame, size) for _, frame in video.frames()]
    if candidates is None:
        candidates = sorted(set(np.linspace(0, frames - 1, min(frames, MAX_CANDIDATES)).round().astype(int).tolist()))
    covered = np.zeros((len(candidates), -(-frames // stride), size[0] * size[1]), dtype=bool)
    with progress(len(candidates), "coverage", "key", enabled=show_progress) as bar:
        for row, key in enumerate(candidates):
            start = np.dstack([np.ones(size[::-1], np.float32), colours[key]])  # (coverage, key colour)
            if key % stride == 0:
                covered[row, key // stride] = True
            for direction in (1, -1):
                maps, t = start, key
                while 0 <= t + direction < frames:
                    new = t + direction
                    # backward(t) maps frame t+1 to t, forward(t) maps t to t+1.
                    flow_to_old, old_to_new = ((backward[t], forward[t]) if direction == 1
                                               else (forward[new], backward[new]))
                    maps = _step(maps, flow_to_old, old_to_new, grid, slack)
                    alike = np.abs(maps[..., 1:] - colours[new]).mean(axis=2) < tolerance
                    maps[..., 0] *= alike
                    cells = maps[..., 0] > 0.5
                    if not cells.any():
                        break
                    if new % stride == 0:
                        covered[row, new // stride] = cells.ravel()
                    t = new
            bar.update(1)
    return candidates, covered


def greedy_keys(candidates: list[int], covered: np.ndarray, limit: int,
                painted: tuple[int, ...] = ()) -> tuple[list[int], list[float], np.ndarray]:
    """Keys in the order greedy covering picks them, the video's coverage after each, and per frame;
    with `painted` (candidates already painted), the keys that best add to them."""
    union = np.zeros(covered.shape[1:], dtype=bool)
    for key in painted:
        union |= covered[candidates.index(key)]
    keys, curve, per_frame = [], [], []
    total = union.size
    for _ in range(min(limit, len(candidates) - len(painted))):
        gains = (covered & ~union).sum(axis=(1, 2))
        gains[[candidates.index(k) for k in [*painted, *keys]]] = -1
        best = int(np.argmax(gains))
        keys.append(candidates[best])
        union |= covered[best]
        curve.append(float(union.sum() / total))
        per_frame.append(union.mean(axis=1))
    return keys, curve, np.array(per_frame, dtype=np.float32)


def suggest_keyframes(video: Video, flow: FlowField, count: int | None = None, max_count: int = 8,
                      tolerance: float = 24.0, show_progress: bool = True) -> Suggestion:
    """The frames to paint; see `reanimate.api.suggest_keyframes`."""
    limit = max(count or 0, max_count)
    candidates, covered = coverage_matrix(video, flow, tolerance, show_progress=show_progress)
    keys, curve, per_frame = greedy_keys(candidates, covered, limit)
    if count is None:
        count = 1
        while count < len(keys) and curve[count] - curve[count - 1] >= MIN_GAIN:
            count += 1
    measured = list(range(0, video.num_frames, -(-video.num_frames // MAX_MEASURED)))
    return Suggestion(keys, curve, per_frame, measured, min(count, len(keys)))


@dataclass
class KeyCoverage:
    """How much of the video the painted `keys` cover, and the frames that would add most to them."""
    keys: list[int]
    share: float
    more: list[int]  # frames to paint too, best first
    with_more: float  # the share the keys and `more` cover together

    def hint(self) -> str | None:
        """A sentence for the user when the keys cover little of the video (None when they cover enough)."""
        if self.share >= FEW_COVERED:
            return None
        said = (f"the key{'s cover' if len(self.keys) > 1 else ' covers'} {self.share:.0%} of the video: "
                "the rest shows what no painted frame shows, and comes out as the network guesses")
        if self.more and self.with_more - self.share >= MIN_GAIN:
            frames = " and ".join(map(str, sorted(self.more)))
            said += f"; painting frame{'s' if len(self.more) > 1 else ''} {frames} too would cover {self.with_more:.0%}"
        return said


def key_coverage(video: Video, flow: FlowField, keys: list[int], extra: int = 2, tolerance: float = 24.0,
                 show_progress: bool = True) -> KeyCoverage:
    """The share of the video that painted `keys` cover and up to `extra` frames that add most to it."""
    frames = video.num_frames
    candidates = sorted(set(np.linspace(0, frames - 1, min(frames, MAX_CANDIDATES // 5)).round().astype(int).tolist())
                        | set(keys))  # a fifth of the candidates `suggest_keyframes` weighs: a hint, fast
    candidates, covered = coverage_matrix(video, flow, tolerance, candidates, show_progress)
    painted = tuple(sorted(set(keys)))
    union = np.logical_or.reduce([covered[candidates.index(k)] for k in painted])
    more, curve, _ = greedy_keys(candidates, covered, extra, painted)
    while more and len(more) > 1 and curve[-1] - curve[-2] < MIN_GAIN:  # a frame that adds little is not named
        more, curve = more[:-1], curve[:-1]
    share = float(union.mean())
    return KeyCoverage(list(painted), share, more, curve[-1] if curve else share)


def _timeline(suggestion: Suggestion, frames: int, width: int, height: int = 56) -> np.ndarray:
    """Coverage of every frame by the chosen keys as bars (green covered, red not), keys marked in white."""
    image = np.full((height, width, 3), 40, np.uint8)
    shares = suggestion.per_frame[suggestion.count - 1]
    for i, frame in enumerate(suggestion.measured):
        x0 = int(frame / frames * width)
        x1 = max(x0 + 1, int((frame + (suggestion.measured[1] - suggestion.measured[0] if len(shares) > 1 else 1))
                             / frames * width))
        top = int(round((1 - shares[i]) * height))
        image[:top, x0:x1] = (150, 40, 40)
        image[top:, x0:x1] = (60, 170, 80)
    for key in suggestion.chosen:
        x = min(width - 1, int((key + 0.5) / frames * width))
        image[:, max(0, x - 1):x + 1] = 255
    return image


def _curve(suggestion: Suggestion, width: int, height: int = 110) -> np.ndarray:
    """Coverage against the number of keys, as bars; the suggested count highlighted."""
    image = np.full((height, width, 3), 24, np.uint8)
    bar = width // max(1, len(suggestion.coverage))
    for n, share in enumerate(suggestion.coverage, start=1):
        x0, top = (n - 1) * bar + 4, int(round((1 - share) * (height - 36))) + 18
        colour = (230, 190, 60) if n == suggestion.count else (110, 110, 110)
        cv2.rectangle(image, (x0, top), (x0 + bar - 8, height - 18), colour, -1)
        cv2.putText(image, f"{share:.0%}", (x0, top - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (230, 230, 230), 1, cv2.LINE_AA)
        cv2.putText(image, f"{n} key{'s' if n > 1 else ''}", (x0, height - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.38,
                    (200, 200, 200), 1, cv2.LINE_AA)
    return image


def _caption(text: str, width: int) -> np.ndarray:
    image = np.full((22, width, 3), 24, np.uint8)
    cv2.putText(image, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (230, 230, 230), 1, cv2.LINE_AA)
    return image


def suggestion_sheet(video: Video, suggestion: Suggestion, max_width: int = 1600) -> np.ndarray:
    """The suggested frames, the coverage of every frame along the video, and the coverage curve."""
    frames = [frame for _, frame in video.frames(suggestion.chosen)]
    gap = 4
    # Thumbnails as tall as fits: all side by side within max_width, at most 180 px.
    height = min(180, int((max_width - gap * (len(frames) - 1)) / sum(f.shape[1] / f.shape[0] for f in frames)))
    thumbs = []
    for index, frame in zip(suggestion.chosen, frames):
        thumb = cv2.resize(frame, (max(1, round(frame.shape[1] * height / frame.shape[0])), height),
                           interpolation=cv2.INTER_AREA)
        for colour, weight in (((0, 0, 0), 3), ((255, 255, 255), 1)):
            cv2.putText(thumb, f"frame {index}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, colour, weight, cv2.LINE_AA)
        thumbs.append(thumb)
    width = max(480, sum(t.shape[1] for t in thumbs) + gap * (len(thumbs) - 1))
    row = np.full((height, width, 3), 24, np.uint8)
    x = 0
    for thumb in thumbs:
        row[:, x:x + thumb.shape[1]] = thumb
        x += thumb.shape[1] + gap
    chosen = suggestion.count
    return np.vstack([
        _caption(f"paint these {chosen} frame{'s' if chosen > 1 else ''}: together they cover "
                 f"{suggestion.coverage[chosen - 1]:.0%} of the video", width), row,
        _caption(f"how much of each frame they cover, frame 0 to {video.num_frames - 1} (white lines: the keys)",
                 width), _timeline(suggestion, video.num_frames, width),
        _caption("coverage of the whole video against the number of keys", width), _curve(suggestion, width)])
