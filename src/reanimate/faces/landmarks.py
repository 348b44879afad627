"""68-point facial landmarks per video frame with dlib, fully offline.

The detector is dlib's HOG frontal-face detector (built into dlib); the 68-point shape predictor
ships inside the `face-recognition-models` package, so nothing is downloaded at run time. One face
is followed through the video (the largest at first, then the one overlapping the last position),
frames without it are marked, and the points are smoothed over time: landmark jitter would
become jitter of the generated head.
"""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from reanimate.core.dlib_models import face_detector, import_dlib, shape_predictor
from reanimate.core.errors import UserError
from reanimate.core.progress import progress
from reanimate.faces.raster import NUM_LANDMARKS

# dlib's HOG detector scans an 80x80 window: smaller faces need the frame enlarged first.
_DETECTOR_FACE = 80
_FACE_WIDTH_FOR_POINTS = 120  # faces smaller than this are enlarged before the shape predictor
TRACK_FORMATS = (".npz", ".json")


@dataclass
class FaceTrack:
    """Landmarks of one face followed through a video.

    points: (N, 68, 2) float32 pixel coordinates, smoothed over time; NaN where the face was not found.
    raw: (N, 68, 2) the per-frame detections before smoothing.
    found: (N,) bool, the tracked face was found in that frame.
    faces: (N,) int, faces the detector saw where it looked: the whole frame while searching, the
        tracked face's surroundings while tracking (other people far away are not scanned for).
    """

    points: np.ndarray
    raw: np.ndarray
    found: np.ndarray
    faces: np.ndarray

    def __len__(self) -> int:
        return len(self.found)


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = np.maximum(a[:2], b[:2])
    x1, y1 = np.minimum(a[2:], b[2:])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def points_box(points: np.ndarray) -> np.ndarray:
    """(x0, y0, x1, y1) bounding box of (68, 2) landmarks."""
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


class LandmarkDetector:
    """Finds the 68 landmarks of one tracked face, frame after frame.

    Args:
        max_detect_side: the whole frame is scanned at most this large on its shorter side (speed);
            on large frames the smallest face found is then 80 * short side / max_detect_side px.
        min_face: smallest face width, in source pixels, to look for on small frames.
        reacquire: frames after losing the tracked face before any other face may be taken.

    Example:
        >>> track = LandmarkDetector().track(frames)
        >>> track.points.shape    # (num_frames, 68, 2)
    """

    def __init__(self, max_detect_side: int = 480, min_face: int = 40, reacquire: int = 12):
        self._dlib = import_dlib()
        self._detector, self._predictor = face_detector(), shape_predictor()
        self.max_detect_side = max_detect_side
        self.min_face = min_face
        self.reacquire = reacquire

    # -- detection ---------------------------------------------------------------------------
    def _scan(self, gray: np.ndarray, scale: float, origin=(0.0, 0.0)) -> list[np.ndarray]:
        """Face boxes (x0, y0, x1, y1) in source pixels of a region scanned at `scale`."""
        if scale != 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale,
                              interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        rects = self._detector(gray, 0)
        return [np.array([r.left(), r.top(), r.right(), r.bottom()], np.float64) / scale
                + np.array([origin[0], origin[1], origin[0], origin[1]]) for r in rects]

    def find_faces(self, gray: np.ndarray, near: np.ndarray | None = None) -> list[np.ndarray]:
        """All face boxes; with `near` (the last box) the region around it is scanned first, at a
        scale where the face fills the detector's window: cheap on large frames, sure on small ones."""
        height, width = gray.shape
        if near is not None:
            side = max(near[2] - near[0], near[3] - near[1])
            cx, cy = (near[0] + near[2]) / 2, (near[1] + near[3]) / 2
            x0, y0 = int(max(0, cx - 1.3 * side)), int(max(0, cy - 1.3 * side))
            x1, y1 = int(min(width, cx + 1.3 * side)), int(min(height, cy + 1.3 * side))
            if x1 - x0 >= 16 and y1 - y0 >= 16:
                scale = 1.25 * _DETECTOR_FACE / max(side, 1.0)
                found = self._scan(gray[y0:y1, x0:x1], scale, (x0, y0))
                if found:
                    return found
        # Enlarge until a `min_face` face fills the detector's window, but never scan a frame
        # larger than `max_detect_side` on its shorter side (large frames: large faces).
        scale = min(_DETECTOR_FACE / self.min_face, self.max_detect_side / min(height, width))
        return self._scan(gray, scale)

    def landmarks(self, gray: np.ndarray, box: np.ndarray) -> np.ndarray:
        """(68, 2) landmarks inside a face box; small faces are enlarged for the predictor."""
        face_width = box[2] - box[0]
        scale = max(1.0, _FACE_WIDTH_FOR_POINTS / max(face_width, 1.0))
        height, width = gray.shape
        pad = 0.6 * face_width
        x0, y0 = int(max(0, box[0] - pad)), int(max(0, box[1] - pad))
        x1, y1 = int(min(width, box[2] + pad)), int(min(height, box[3] + pad))
        region = gray[y0:y1, x0:x1]
        if scale != 1.0:
            region = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        local = (box - [x0, y0, x0, y0]) * scale
        rect = self._dlib.rectangle(*(int(round(v)) for v in local))
        shape = self._predictor(np.ascontiguousarray(region), rect)
        points = np.array([(p.x, p.y) for p in shape.parts()], np.float64)  # (68, 2)
        # dlib returns integer pixel positions of the enlarged region; +0.5 is the pixel centre.
        return ((points + 0.5) / scale - 0.5 + [x0, y0]).astype(np.float32)

    def upright_faces(self, gray: np.ndarray, last: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Faces near the last landmarks, searched in a view turned so the last face is upright.

        dlib's HOG detector only knows upright faces and loses a head tilted by more than about 20
        degrees; turning the search window by the last known tilt finds it again. Returns
        (box, landmarks) pairs in frame pixels.
        """
        eyes = last[42:48].mean(axis=0) - last[36:42].mean(axis=0)
        tilt = math.degrees(math.atan2(eyes[1], eyes[0]))
        if abs(tilt) < 8:
            return []  # an upright window was already searched
        box = points_box(last)
        side = max(box[2] - box[0], box[3] - box[1], 1.0)
        centre = (box[:2] + box[2:]) / 2
        scale = _FACE_WIDTH_FOR_POINTS / side
        view_side = int(2.6 * side * scale)
        turn = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), tilt, scale)  # (2, 3) frame -> view
        turn[:, 2] += view_side / 2 - centre
        view = cv2.warpAffine(gray, turn, (view_side, view_side), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        back = cv2.invertAffineTransform(turn)  # (2, 3) view -> frame
        found = []
        for rect in self._detector(view, 0):
            shape = self._predictor(view, rect)
            points = np.array([(p.x, p.y) for p in shape.parts()], np.float64) @ back[:, :2].T + back[:, 2]
            found.append((points_box(points), points.astype(np.float32)))
        return found

    # -- tracking ----------------------------------------------------------------------------
    def _choose(self, boxes: list[np.ndarray], last: np.ndarray | None, lost_for: int) -> np.ndarray | None:
        if not boxes:
            return None
        if last is not None:
            overlaps = [_box_iou(box, last) for box in boxes]
            best = int(np.argmax(overlaps))
            if overlaps[best] >= 0.2:
                return boxes[best]
            if lost_for < self.reacquire:
                return None  # another face, while ours may be only briefly hidden
        return max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))

    def track(self, frames: Iterable[np.ndarray], smooth: float = 1.0, total: int | None = None,
              show_progress: bool = False) -> FaceTrack:
        """Landmarks of one face through a sequence of RGB uint8 frames.

        Args:
            frames: RGB uint8 (H, W, 3) frames in order (any iterable: a video is decoded lazily).
            smooth: temporal Gaussian sigma in frames (0 = off); smoothing never crosses a frame
                without the face.
            total: number of frames, for the progress bar.

        Returns:
            A `FaceTrack`.
        """
        raw, found, faces = [], [], []
        last, last_points, lost_for = None, None, 0
        bar = progress(total, "landmarks", "frame", enabled=show_progress)
        with bar:
            for frame in frames:
                gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
                near = last if last is not None and lost_for < self.reacquire else None
                boxes = self.find_faces(gray, near)  # falls back to the whole frame by itself
                known: dict[int, np.ndarray] = {}  # landmarks already found with a box
                if not boxes and near is not None:
                    pairs = self.upright_faces(gray, last_points)
                    boxes, known = [b for b, _ in pairs], {id(b): p for b, p in pairs}
                box = self._choose(boxes, last, lost_for)
                faces.append(len(boxes))
                if box is None:
                    raw.append(np.full((NUM_LANDMARKS, 2), np.nan, np.float32))
                    found.append(False)
                    lost_for += 1
                else:
                    points = known[id(box)] if id(box) in known else self.landmarks(gray, box)
                    raw.append(points)
                    found.append(True)
                    # Follow the landmarks' own box: steadier than the detector's.
                    last, last_points, lost_for = points_box(points).astype(np.float64), points, 0
                bar.update()
        raw_points = np.stack(raw) if raw else np.zeros((0, NUM_LANDMARKS, 2), np.float32)
        found_mask = np.array(found, bool)
        return FaceTrack(points=smooth_over_time(raw_points, found_mask, smooth), raw=raw_points,
                         found=found_mask, faces=np.array(faces, np.int32))


def smooth_over_time(values: np.ndarray, valid: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing along axis 0 within each run of valid entries (edges: nearest value).

    Runs are smoothed separately so a face that leaves and returns is not averaged with nothing.
    """
    out = values.astype(np.float32, copy=True)
    if sigma <= 0 or len(values) == 0:
        return out
    radius = max(1, int(round(3 * sigma)))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    edges = np.flatnonzero(np.diff(np.concatenate([[0], valid.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2]):
        run = values[start:stop].astype(np.float64)
        positions = np.clip(np.arange(len(run))[:, None] + offsets, 0, len(run) - 1)  # (T, taps)
        weighted = run[positions] * kernel.reshape((1, -1) + (1,) * (run.ndim - 1))
        out[start:stop] = weighted.sum(axis=1)
    return out


def jitter(points: np.ndarray, found: np.ndarray) -> float:
    """Mean landmark acceleration |p[t+1] - 2 p[t] + p[t-1]| over consecutive found frames, in
    units of the face's inter-ocular distance: near 0 for steady motion, high for jitter."""
    ok = found[2:] & found[1:-1] & found[:-2]
    if not ok.any():
        return float("nan")
    accel = np.linalg.norm(points[2:] - 2 * points[1:-1] + points[:-2], axis=-1)[ok]  # (T', 68)
    eyes = np.linalg.norm(points[:, 36:42].mean(1) - points[:, 42:48].mean(1), axis=-1)[1:-1][ok]  # (T',)
    return float((accel.mean(axis=1) / eyes).mean())


def save_track(track: FaceTrack, path, fps: float, size: tuple[int, int]) -> None:
    """Write a track as .npz (arrays: points, raw, found, faces) or .json (per-frame point lists)."""
    import io
    import json

    from reanimate.core.files import atomic_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        buffer = io.BytesIO()
        np.savez_compressed(buffer, points=track.points, raw=track.raw, found=track.found, faces=track.faces,
                            fps=np.float64(fps), size=np.array(size))
        data = buffer.getvalue()
    elif suffix == ".json":
        frames = [{"index": i, "found": bool(ok), "faces": int(n),
                   "points": np.round(p, 3).tolist() if ok else None}
                  for i, (p, ok, n) in enumerate(zip(track.points, track.found, track.faces))]
        data = json.dumps({"fps": fps, "width": size[0], "height": size[1], "frames": frames}).encode()
    else:
        raise UserError(f"landmarks file {path} must end in {' or '.join(TRACK_FORMATS)}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
