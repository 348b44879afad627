"""A face image warped to new landmarks: piecewise-affine over a triangulation of the 68 points, the
head outline and the image border (after "Bringing Portraits to Life", Averbuch-Elor et al. 2017).

Why piecewise-affine rather than thin-plate splines or moving least squares: it is exact at every
landmark, local (a moving mouth does not drag the ears), cannot fold when each triangle keeps its
orientation (checked and clamped per frame), and renders with one `cv2.remap` over a per-pixel
triangle lookup, well over real time at 256x256 on a CPU (`benchmarks/talk_warp.py`). A TPS over 90
points costs a dense 90-term sum per pixel and overshoots between landmarks on large expressions.

Points beyond the 68: a forehead arc above the brows and a ring around the head that move with the
head's similarity transform (the hair and the top of the head follow the face), and fixed points
on the image border, so the background far from the face holds still.
"""

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

JAW, BROWS, NOSE, EYES = range(0, 17), range(17, 27), range(27, 36), range(36, 48)
OUTER_LIPS, INNER_LIPS = range(48, 60), range(60, 68)
RIGID = [27, 28, 29, 30, 31, 33, 35, 36, 39, 42, 45]  # nose and eye corners: they move with the skull
BORDER_STEPS = 4  # fixed points per image side
MIN_AREA_RATIO = 0.05  # a target triangle this much smaller than its source counts as folded


def similarity(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Scale, rotation (2, 2) and shift with target ≈ scale * source @ R.T + shift (Umeyama 1991)."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    s, t = source - mu_s, target - mu_t
    u, sigma, vt = np.linalg.svd(t.T @ s)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    rotation = u @ np.diag([1, d]) @ vt
    scale = max((sigma * [1, d]).sum() / max((s ** 2).sum(), 1e-12), 1e-6)  # collapsed points: no division by 0
    return float(scale), rotation, mu_t - scale * mu_s @ rotation.T


def apply_similarity(points: np.ndarray, transform) -> np.ndarray:
    scale, rotation, shift = transform
    return (scale * points @ rotation.T + shift).astype(np.float32)


SHAPE_WEIGHTS = np.ones(68, np.float32)
SHAPE_WEIGHTS[list(EYES) + list(OUTER_LIPS) + list(INNER_LIPS)] = 2.0  # expression lives in the eyes and mouth


def shape_distance(a: np.ndarray, b: np.ndarray) -> float:
    """How different two faces' poses and expressions are: weighted landmark distance after a
    similarity alignment, over the face size."""
    aligned = apply_similarity(a, similarity(a, b))
    scale = np.ptp(b, axis=0).max() + 1e-6
    return float((SHAPE_WEIGHTS * np.linalg.norm(aligned - b, axis=1)).sum() / SHAPE_WEIGHTS.sum() / scale)


def nearest_shot(shots: np.ndarray, target: np.ndarray, leave_out: int | None = None) -> tuple[int, list[float]]:
    """(index of the shot (T, 68, 2) nearest `target` in pose and expression, every shot's distance);
    `leave_out` names a shot not to choose (the target's own, when there are others)."""
    distances = [shape_distance(p, target) for p in shots]
    ranked = [i for i in np.argsort(distances) if i != leave_out or len(shots) == 1]
    return int(ranked[0]), distances


def head_points(points: np.ndarray) -> np.ndarray:
    """(K, 2) points beyond the 68 landmarks: a forehead arc and a wider ring around the head."""
    brows, chin = points[list(BROWS)], points[8]
    up = brows.mean(0) - chin
    height = np.linalg.norm(up) + 1e-6
    up = up / height
    forehead = brows + up * 0.45 * height  # the hairline sits about this far above the brows
    outline = np.concatenate([points[list(JAW)], forehead[::-1]])  # (27, 2) around the face, in order
    centre = outline.mean(0)
    # Hair and ears move with the head: a ring around the upper face. None below the nose, where the
    # jaw opens on its own: the neck there stretches between the jaw and the fixed border instead.
    upper = (outline - chin) @ up > (points[33] - chin) @ up
    ring = centre + (outline[upper][::2] - centre) * 1.35
    return np.concatenate([forehead, ring]).astype(np.float32)


def border_points(width: int, height: int) -> np.ndarray:
    xs, ys = np.linspace(0, width - 1, BORDER_STEPS + 1), np.linspace(0, height - 1, BORDER_STEPS + 1)
    top = [(x, 0) for x in xs] + [(x, height - 1) for x in xs]
    sides = [(0, y) for y in ys[1:-1]] + [(width - 1, y) for y in ys[1:-1]]
    return np.array(top + sides, np.float32)


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over the face height: 0 closed, about 0.15-0.3 wide open."""
    gap = np.linalg.norm(points[[61, 62, 63]] - points[[67, 66, 65]], axis=1).mean()
    return float(gap / (np.linalg.norm(points[list(BROWS)].mean(0) - points[8]) + 1e-6))


MOUTH_GAIN = 1.3  # the target opens its mouth this much wider than the warped shot: fill the inside
MIN_OPENING = 0.04  # narrower gaps show no teeth


def needs_mouth(target: np.ndarray, shot_opening: float) -> bool:
    """Whether `target` (68, 2) opens its mouth wider than a warp of a shot opened `shot_opening` can show."""
    opening = mouth_opening(target)
    return opening > MIN_OPENING and opening > MOUTH_GAIN * shot_opening


def widest_open(openings: list[float], shot: int, exclude: int | None = None) -> int | None:
    """The shot with the widest-open mouth (never `exclude`), or None if it is not clearly wider than `shot`'s."""
    widest = int(np.argmax([o if i != exclude else -1.0 for i, o in enumerate(openings)]))
    return widest if openings[widest] > MOUTH_GAIN * openings[shot] and widest != exclude else None


def fill_mouth(face: np.ndarray, target: np.ndarray, donor: np.ndarray, donor_points: np.ndarray) -> np.ndarray:
    """`face` (S, S, 3) uint8 at landmarks `target`, with the inside of its mouth taken from another
    face (`donor` at `donor_points`), moved onto the target's inner lips and coloured like `face`."""
    size = face.shape[1], face.shape[0]
    lips = list(OUTER_LIPS) + list(INNER_LIPS)
    matrix, _ = cv2.estimateAffinePartial2D(donor_points[lips], target[lips])
    if matrix is None:
        return face
    mouth = cv2.warpAffine(donor, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inner = polygon_mask(target[list(INNER_LIPS)], size)
    ring = np.clip(polygon_mask(target[list(OUTER_LIPS)], size) - inner, 0, 1)  # the lips themselves
    mouth = match_colours(mouth, face, ring)  # the donor's lips to the face's: teeth follow suit
    blend = cv2.GaussianBlur(inner, (0, 0), max(0.8, 0.004 * size[0]))[..., None]
    return np.rint(face + blend * (mouth.astype(np.float32) - face)).astype(np.uint8)


def _signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


@dataclass
class WarpResult:
    image: np.ndarray  # (H, W, 3) uint8
    folds_clamped: bool  # the target would have folded triangles: motion was pulled towards rigid


class FaceWarp:
    """Warps one source face image to any target landmarks of the same image size.

    The triangulation is made once, on the source's control points, so every frame uses the same
    mesh and the texture stays attached to the same triangles over time.

    Args:
        image: (H, W, 3) uint8 source image (a face crop or a whole frame).
        points: (68, 2) landmarks of the face in `image` pixels.

    Example:
        >>> warp = FaceWarp(crop, landmarks)
        >>> moved = warp(new_landmarks).image
    """

    def __init__(self, image: np.ndarray, points: np.ndarray):
        self.image = np.ascontiguousarray(image)
        height, width = image.shape[:2]
        self.points = np.asarray(points, np.float32)
        self.border = border_points(width, height)
        # Head points outside the image (a tight crop) are left out, the same ones in every frame.
        head = head_points(self.points)
        margin = 0.06 * max(width, height)  # thin triangles against the fixed border fold first
        self.head_kept = ((head >= margin) & (head <= [width - 1 - margin, height - 1 - margin])).all(1)
        head = head[self.head_kept]
        # Near the fixed border a head point moves less, so the band between them stretches rather than folds.
        to_border = np.minimum(head, [width - 1, height - 1] - head).min(1)
        self.head_follow = np.clip(to_border / (0.2 * max(width, height)), 0, 1)[:, None].astype(np.float32)
        self.source = self._control(self.points, head)  # (M, 2)
        self.triangles = Delaunay(self.source).simplices.astype(np.int32)  # (T, 3)
        self.source_areas = _signed_areas(self.source, self.triangles)
        self._grid = np.mgrid[0:height, 0:width].astype(np.float32)  # (2, H, W): made once, used every frame
        keep = np.abs(self.source_areas) > 1e-3  # degenerate slivers of collinear border points
        self.triangles, self.source_areas = self.triangles[keep], self.source_areas[keep]

    def _control(self, points: np.ndarray, extra: np.ndarray) -> np.ndarray:
        return np.concatenate([points, extra, self.border]).astype(np.float32)

    def target_control(self, target: np.ndarray) -> np.ndarray:
        """Control points for target landmarks: the head points follow the head's similarity transform."""
        source_head = head_points(self.points)[self.head_kept]
        moved = apply_similarity(source_head, similarity(self.points[RIGID], target[RIGID]))
        return self._control(target, source_head + self.head_follow * (moved - source_head))

    def folds(self, control: np.ndarray) -> bool:
        areas = _signed_areas(control, self.triangles)
        return bool(np.any(areas * np.sign(self.source_areas) < MIN_AREA_RATIO * np.abs(self.source_areas)))

    def safe_target(self, target: np.ndarray) -> tuple[np.ndarray, bool]:
        """Target control points that fold no triangle: blended towards the rigid motion if needed."""
        target = np.asarray(target, np.float32)
        control = self.target_control(target)
        if not self.folds(control):
            return control, False
        rigid = apply_similarity(self.points, similarity(self.points[RIGID], target[RIGID]))
        # Towards the head's rigid move first (keeps the pose, drops the expression), then towards
        # the source itself (a large turn against the pinned border), which cannot fold.
        candidates = [rigid + w * (target - rigid) for w in (0.75, 0.5, 0.25, 0.0)]
        candidates += [self.points + w * (rigid - self.points) for w in (0.5, 0.25)]
        for candidate in candidates:
            control = self.target_control(candidate)
            if not self.folds(control):
                return control, True
        return self.source, True

    def maps(self, control: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(map_x, map_y) for cv2.remap: for every target pixel, where to read in the source."""
        height, width = self.image.shape[:2]
        index = np.full((height, width), -1, np.int32)
        for t, tri in enumerate(self.triangles):
            cv2.fillConvexPoly(index, np.round(control[tri] * 16).astype(np.int32), t, cv2.LINE_8, shift=4)
        # The affine map of each triangle, target -> source: [x, y, 1] @ A.T.
        dst = np.concatenate([control[self.triangles], np.ones((len(self.triangles), 3, 1), np.float32)], 2)
        src = self.source[self.triangles]  # (T, 3, 2)
        affine = np.linalg.solve(dst.astype(np.float64), src.astype(np.float64))  # (T, 3, 2)
        ys, xs = self._grid
        uncovered = index < 0  # a rounding seam along the image border: read the pixel itself
        a = affine[np.where(uncovered, 0, index)].astype(np.float32)  # (H, W, 3, 2)
        map_x = xs * a[..., 0, 0] + ys * a[..., 1, 0] + a[..., 2, 0]
        map_y = xs * a[..., 0, 1] + ys * a[..., 1, 1] + a[..., 2, 1]
        map_x[uncovered], map_y[uncovered] = xs[uncovered], ys[uncovered]
        return map_x, map_y

    def __call__(self, target: np.ndarray) -> WarpResult:
        """The source image with its face moved to `target` (68, 2) landmarks."""
        control, clamped = self.safe_target(target)
        map_x, map_y = self.maps(control)
        image = cv2.remap(self.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return WarpResult(image, clamped)


def polygon_mask(points: np.ndarray, size: tuple[int, int], feather: float = 0.0) -> np.ndarray:
    """(H, W) float32 in [0, 1]: the filled polygon of `points`, edges blurred by `feather` pixels (sigma)."""
    width, height = size
    mask = np.zeros((height, width), np.float32)
    cv2.fillPoly(mask, [np.round(points * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    if feather > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), feather)
    return mask


def head_hull(points: np.ndarray) -> np.ndarray:
    """(K, 2) the convex hull of the face, its forehead and the ring around the head: all the warp moves
    with the face (beyond it the image is only stretched towards the pinned border)."""
    return cv2.convexHull(np.concatenate([points, head_points(points)]).astype(np.float32))[:, 0]


def match_colours(image: np.ndarray, reference: np.ndarray, mask: np.ndarray, ref_mask: np.ndarray | None = None
                  ) -> np.ndarray:
    """`image` with its per-channel mean and spread in `mask` moved to `reference`'s in `ref_mask`."""
    ref_mask = mask if ref_mask is None else ref_mask
    sel, ref_sel = mask > 0.5, ref_mask > 0.5
    if sel.sum() < 8 or ref_sel.sum() < 8:
        return image
    lab, ref = (cv2.cvtColor(x, cv2.COLOR_RGB2LAB).astype(np.float32) for x in (image, reference))
    mean, std = lab[sel].mean(0), lab[sel].std(0) + 1e-3
    ref_mean, ref_std = ref[ref_sel].mean(0), ref[ref_sel].std(0) + 1e-3
    out = (lab - mean) * np.clip(ref_std / std, 0.5, 2.0) + ref_mean
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
