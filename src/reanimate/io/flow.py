"""Optical flow between consecutive frames (OpenCV DIS, the authors' choice), cached on disk.

Flow is computed once per video at a working resolution (longer side <= 640 px by default; guides
and the temporal filter need positions, not sub-pixel detail) and stored as float16 per frame pair,
so later runs on the same video reuse it. A cache made for another video or size is detected by
its fingerprint and recomputed.
"""

import functools
import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np

from reanimate.core.errors import UserError, brief
from reanimate.core.files import atomic_path, write_json
from reanimate.core.progress import progress
from reanimate.io.video import Video

FLOW_FORMAT = 1
DEFAULT_FLOW_SIDE = 640


def video_fingerprint(video: Video) -> str:
    """Identifies a video's content cheaply: its files' names, sizes and times, and its frame geometry."""
    digest = hashlib.sha256(f"{video.num_frames}x{video.width}x{video.height}".encode())
    for path in video.files or [video.path]:
        stat = os.stat(path)
        digest.update(f"{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def flow_size(width: int, height: int, max_side: int = DEFAULT_FLOW_SIDE) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(8, round(width * scale)), max(8, round(height * scale))


class FlowField:
    """Forward and backward flow of a video, at the working resolution, from a disk cache.

    `forward(t)` maps frame t to t+1 and `backward(t)` frame t+1 to t: (h, w, 2) float32 pixel
    displacements (x, y) in working-resolution pixels. `scale` = working size / frame size.
    """

    def __init__(self, folder: Path, width: int, height: int, frame_size: tuple[int, int], count: int):
        self.folder, self.width, self.height, self.count = folder, width, height, count
        self.scale = width / frame_size[0]

    def forward(self, t: int) -> np.ndarray:
        return self._load(f"fwd-{t:05d}.npy")

    def backward(self, t: int) -> np.ndarray:
        return self._load(f"bwd-{t:05d}.npy")

    def _load(self, name: str) -> np.ndarray:
        path = self.folder / name
        try:
            flow = np.load(path, allow_pickle=False)
        except Exception as exc:  # numpy's header parser raises many kinds (ValueError, SyntaxError, ...)
            raise UserError(f"the optical flow cache file {path} is damaged ({brief(exc)}): delete the folder "
                            f"{self.folder} and run again to compute it anew") from exc
        if flow.shape != (self.height, self.width, 2):
            raise UserError(f"the optical flow cache file {path} holds {flow.shape}, not ({self.height}, {self.width}, 2): "
                            f"delete the folder {self.folder} and run again")
        return flow.astype(np.float32)


def _gray(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA) if frame.shape[1::-1] != size else frame
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


def compute_flow(video: Video, cache: str | os.PathLike, max_side: int = DEFAULT_FLOW_SIDE,
                 show_progress: bool = True) -> FlowField:
    """DIS flow in both directions between consecutive frames, reusing `cache` when it matches.

    Args:
        video: an opened `Video`.
        cache: a folder for this video's flow; made if missing, recomputed if it holds another video's.
        max_side: working resolution (longer side).

    Returns:
        A `FlowField` reading from the cache.
    """
    cache = Path(cache)
    width, height = flow_size(video.width, video.height, max_side)
    meta = {"format": FLOW_FORMAT, "video": video_fingerprint(video), "frames": video.num_frames,
            "size": [width, height], "method": "DIS medium"}
    meta_path = cache / "flow.json"
    pairs = video.num_frames - 1
    if meta_path.is_file():
        try:
            found = json.loads(meta_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            found = None
        if found == meta:
            return FlowField(cache, width, height, video.size, video.num_frames)
        shutil.rmtree(cache)  # another video, size or format: recompute
    elif cache.exists() and any(cache.glob("*.npy")):
        shutil.rmtree(cache)  # an interrupted computation: its files are not trusted
    cache.mkdir(parents=True, exist_ok=True)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    previous = None
    with progress(pairs, "optical flow", "pair", enabled=show_progress) as bar:
        for index, frame in video.frames():
            gray = _gray(frame, (width, height))
            if previous is not None:
                for name, a, b in (("fwd", previous, gray), ("bwd", gray, previous)):
                    flow = dis.calc(a, b, None)  # (h, w, 2) float32
                    # Saved to memory, then written: numpy's own writes report a full disk as
                    # "N requested and M written", without the errno that says what went wrong.
                    buffer = io.BytesIO()
                    np.save(buffer, flow.astype(np.float16))
                    with atomic_path(cache / f"{name}-{index - 1:05d}.npy") as tmp:
                        tmp.write_bytes(buffer.getvalue())
                bar.update(1)
            previous = gray
    write_json(meta_path, meta)  # written last: its presence means the cache is complete
    return FlowField(cache, width, height, video.size, video.num_frames)


def sample(field: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples of an (h, w, C) field at (N, 2) (x, y) points; clamped at the border."""
    h, w = field.shape[:2]
    x = np.clip(points[:, 0], 0, w - 1.001)
    y = np.clip(points[:, 1], 0, h - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    top = field[y0, x0] * (1 - fx) + field[y0, x0 + 1] * fx
    bottom = field[y0 + 1, x0] * (1 - fx) + field[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def consistent(forward: np.ndarray, backward: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move points along `forward`; keep those whose flow the `backward` flow undoes (not occluded).

    Forward-backward check of Sundaram et al. 2010: |f + b|^2 < 0.01 (|f|^2 + |b|^2) + 0.5.
    Returns the moved points and a keep mask (inside the frame and consistent).
    """
    f = sample(forward, points)
    moved = points + f
    b = sample(backward, moved)
    h, w = forward.shape[:2]
    inside = (moved[:, 0] >= 0) & (moved[:, 0] <= w - 1) & (moved[:, 1] >= 0) & (moved[:, 1] <= h - 1)
    ok = np.sum((f + b) ** 2, axis=1) < 0.01 * (np.sum(f ** 2, axis=1) + np.sum(b ** 2, axis=1)) + 0.5
    return moved, inside & ok


def trace_grid(flow: np.ndarray, back: np.ndarray, slack: float = 0.5,
               grid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`consistent` for every pixel at once, with one remap: (where each pixel lands, (h, w, 2);
    `back` sampled there, (h, w, 2); (h, w) bool, landed inside the frame and `back` undoes `flow`).

    `slack` is the check's constant in squared pixels (0.5 at full resolution); `grid`, the
    `pixel_grid` of the flow's size, when the caller keeps one. `flow` and `grid` may be a strided
    subset of the pixels (`flow[::2, ::2]`): `back` is always whole.
    """
    h, w = back.shape[:2]
    where = (pixel_grid(h, w) if grid is None else grid) + flow
    returned = cv2.remap(back, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    length = functools.partial(np.einsum, "ijk,ijk->ij")  # squared vector lengths; 4x np.sum(axis=2)'s speed
    ok = length(flow + returned, flow + returned) < 0.01 * (length(flow, flow) + length(returned, returned)) + slack
    inside = (where[..., 0] >= 0) & (where[..., 0] <= w - 1) & (where[..., 1] >= 0) & (where[..., 1] <= h - 1)
    return where, returned, ok & inside


def pixel_grid(height: int, width: int) -> np.ndarray:
    """(h, w, 2) float32 (x, y) coordinates of every pixel."""
    return np.dstack(np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)))


def warp_by(image: np.ndarray, flow: np.ndarray, border=cv2.BORDER_CONSTANT) -> np.ndarray:
    """Backward warp: out(x) = image(x + flow(x)); flow at the image's resolution, (h, w, 2)."""
    return cv2.remap(image, pixel_grid(*flow.shape[:2]) + flow, None, cv2.INTER_LINEAR, borderMode=border)


def resize_flow(flow: np.ndarray, width: int, height: int) -> np.ndarray:
    """Flow at another resolution: resampled and its vectors scaled with it."""
    h, w = flow.shape[:2]
    if (w, h) == (width, height):
        return flow
    out = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    out[..., 0] *= width / w
    out[..., 1] *= height / h
    return out

