"""A face image warped to new landmarks: piecewise-affine over a triangulation of the 68 points, the
head outline and the image border (after "Bringing Portraits to Life", Averbuch-Elor et al. 2017).

Why piecewise-affine rather than thin-plate splines or moving least squares: it is exact at every
landmark (the jaw's own motion is smoothed along it first), local (a moving mouth does not drag
the ears), cannot fold when each triangle keeps its orientation (checked and clamped per frame), and renders with one `cv2.remap` over a per-pixel
triangle lookup, well over real time at 256x256 on a CPU (`benchmarks/talk_warp.py`). A TPS over 90
points costs a dense 90-term sum per pixel and overshoots between landmarks on large expressions.

Points beyond the 68: a forehead arc above the brows and a ring around the head that move with the
head's similarity transform (the hair and the top of the head follow the face), points on the neck
and shoulders that follow it partly, a row just beyond each lid that moves with it (`lash_rows`), the
iris centres when they are known (carried by their eyes; a gaze slides the iris afterwards, `faces.eyes.turn_eyes`), and fixed points on the image border, so the background far from the face holds still. Warping a whole
photo this way moves the head in the frame ("Bringing Portraits to Life" warps the whole image too).
"""

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from reanimate.faces.eyes import lash_offsets, lash_rows, place_iris, to_eye

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


FULL_FOLLOW = 0.2  # of the picture's size: points beyond the face this far from its border move fully
STILL_MARGIN = 0.1  # of the picture's size: still points nearer its border are left out
STILL_ROOM = 0.3  # of the band between the head and still rings: the most it is moved across; beyond, the ring is dragged
HEAD_RING, STILL_RING = 1.35, 1.8  # around the face outline: hair and ears move with the head, the background holds


def head_points(points: np.ndarray) -> np.ndarray:
    """(K, 2) points beyond the 68 landmarks: a forehead arc and a wider ring around the head."""
    return _head_points(points)[0]


def _head_points(points: np.ndarray, pick: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(head points (K, 2), the outline point each one is drawn out from (K, 2), which outline points
    the ring uses); `pick` repeats another face's choice, so two faces get matching points."""
    brows, chin = points[list(BROWS)], points[8]
    up = brows.mean(0) - chin
    height = np.linalg.norm(up) + 1e-6
    up = up / height
    forehead = brows + up * 0.45 * height  # the hairline sits about this far above the brows
    outline = np.concatenate([points[list(JAW)], forehead[::-1]])  # (27, 2) around the face, in order
    centre = outline.mean(0)
    # Hair and ears move with the head: a ring around the upper face. None below the nose, where the
    # jaw opens on its own: the neck there stretches between the jaw and the fixed border instead.
    if pick is None:
        pick = np.flatnonzero((outline - chin) @ up > (points[33] - chin) @ up)[::2]
    anchors = outline[pick]
    ring = centre + (anchors - centre) * HEAD_RING
    return (np.concatenate([forehead, ring]).astype(np.float32),
            np.concatenate([brows, anchors]).astype(np.float32), pick)


def background_points(points: np.ndarray) -> np.ndarray:
    """(K, 2) points of the background that hold still, on a ring `STILL_RING` times the face outline's
    size around the upper face (beyond the head's ring): the head moving stretches the band between
    the two rings, and the background beyond stays where it is, as a real one does."""
    head, anchors, _ = _head_points(points)
    ring = head[len(BROWS):]
    centre = (HEAD_RING * anchors[len(BROWS):] - ring) / (HEAD_RING - 1)  # the outline's centre
    return (centre + (ring - centre) * (STILL_RING / HEAD_RING)).astype(np.float32)


def body_points(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(neck (3, 2), shoulders (3, 2)): points below the jaw that follow the head partly, so a head
    that moves drags its neck and, less, its shoulders instead of stretching the picture at the chin."""
    brows, chin = points[list(BROWS)].mean(0), points[8]
    up, side = brows - chin, points[16] - points[0]
    neck = [chin - 0.6 * up + k * 0.3 * side for k in (-1, 0, 1)]
    shoulders = [chin - 1.5 * up + k * 1.0 * side for k in (-1, 0, 1)]
    return np.array(neck, np.float32), np.array(shoulders, np.float32)


NECK_FOLLOW, SHOULDER_FOLLOW = 0.6, 0.25  # how much of the head's move the neck and shoulders make
OUTLINE_FOLLOW = 0.5  # how much of the face outline's own change (beyond the head's move) the ring makes


def border_points(width: int, height: int) -> np.ndarray:
    xs, ys = np.linspace(0, width - 1, BORDER_STEPS + 1), np.linspace(0, height - 1, BORDER_STEPS + 1)
    top = [(x, 0) for x in xs] + [(x, height - 1) for x in xs]
    sides = [(0, y) for y in ys[1:-1]] + [(width - 1, y) for y in ys[1:-1]]
    return np.array(top + sides, np.float32)


def _signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


# Openings that may close: lids meet on a blink, lips on a closing mouth. Their triangles may shrink to
# nothing (the skin around them covers the place, as a real lid does), so they are not folds; the
# facing points are only kept from crossing (`uncross`).
FACING = [(37, 41), (38, 40), (43, 47), (44, 46), (61, 67), (62, 66), (63, 65)]
OPENINGS = (set(range(36, 42)) | {68}, set(range(42, 48)) | {69}, set(range(48, 68)))
SLIVER = 0.004  # triangles smaller than this share of the face's box are not checked for folds
MAP_SIDE = 640  # the warp's maps are computed at most this large and scaled up (they are piecewise linear)


def uncross(target: np.ndarray) -> np.ndarray:
    """`target` (68, 2) with each lower lid point no higher than the upper one facing it (and the
    lips alike): a driver's blink measured past closed closes the lid, it does not turn it over."""
    target = np.array(target, np.float32)
    down = target[8] - target[list(BROWS)].mean(0)
    down /= np.linalg.norm(down) + 1e-9
    for upper, lower in FACING:
        if (target[lower] - target[upper]) @ down < 0:
            target[upper] = target[lower] = 0.5 * (target[upper] + target[lower])
    return target


@dataclass
class WarpResult:
    image: np.ndarray  # (H, W, 3) uint8
    folds_clamped: bool  # the target would have folded triangles: motion was pulled towards rigid
    points: np.ndarray  # (68, 2) the landmarks drawn: the target, uncrossed, its jaw smoothed, clamped if so
    alpha: np.ndarray | None = None  # (H, W) float32 in [0, 1]: the source's `alpha`, warped the same way


class FaceWarp:
    """Warps one source image (a face crop or a whole photo) to any target landmarks.

    The triangulation is made once, on the source's control points, so every frame uses the same
    mesh and the texture stays attached to the same triangles over time. With `irises`, each iris
    centre is a control point of its own, carried by its eye's shape (an iris stays between closing lids).

    Args:
        image: (H, W, 3) uint8 source image.
        points: (68, 2) landmarks of the face in `image` pixels.
        irises: (2, 2) iris centres in `image` pixels (`reanimate.faces.eyes.find_irises`); an eye
            whose iris was not found (NaN) gets its lids' centre, which then moves with the lids.
        alpha: (H, W) float in [0, 1], warped with the image (one remap of four channels): the person's
            mask of a photo in layers (`reanimate.faces.layers`).

    Example:
        >>> warp = FaceWarp(photo, landmarks)
        >>> moved = warp(new_landmarks).image
    """

    def __init__(self, image: np.ndarray, points: np.ndarray, irises: np.ndarray | None = None,
                 alpha: np.ndarray | None = None):
        self.image = np.ascontiguousarray(image)
        self._rgba = None if alpha is None else np.dstack([image, np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)])
        height, width = image.shape[:2]
        self.points = np.asarray(points, np.float32)
        self.irises = None if irises is None else _irises_or_centres(self.points, irises)
        self.border = border_points(width, height)
        # Points beyond the face that land outside the image (a tight crop) or too near its fixed
        # border are left out, the same ones in every frame.
        # The source's own points beyond the face, made once (every frame moves them from here).
        self._head, self._anchors, self._pick = _head_points(self.points)
        self._neck, self._shoulders = body_points(self.points)
        self._still = background_points(self.points)
        self._centre = self.points[RIGID].mean(0)
        extra = np.concatenate([self._head, self._neck, self._shoulders, self._still])
        margin = 0.06 * max(width, height)  # thin triangles against the fixed border fold first
        self.extra_kept = ((extra >= margin) & (extra <= [width - 1 - margin, height - 1 - margin])).all(1)
        # Still points only where the border is not too near (one held there could not be dragged out
        # of a moving head's way); they are dragged in full, not less near the border.
        reach = FULL_FOLLOW * max(width, height)
        still = np.arange(len(extra)) >= len(extra) - len(self._still)
        self.extra_kept &= ~still | (np.minimum(extra, [width - 1, height - 1] - extra).min(1) >= STILL_MARGIN * max(width, height))
        still = still[self.extra_kept]
        extra = extra[self.extra_kept]
        # Near the fixed border a point moves less, so the band between them stretches rather than folds.
        to_border = np.where(still, reach, np.minimum(extra, [width - 1, height - 1] - extra).min(1))
        self.extra_follow = np.clip(to_border / reach, 0, 1)[:, None].astype(np.float32)
        self.lash_offsets = lash_offsets(self.points)
        self.source = self._control(self.points, self.irises, extra)  # (M, 2)
        self.triangles = Delaunay(self.source).simplices.astype(np.int32)  # (T, 3)
        self.source_areas = _signed_areas(self.source, self.triangles)
        keep = np.abs(self.source_areas) > 1e-3  # degenerate slivers of collinear border points
        self.triangles, self.source_areas = self.triangles[keep], self.source_areas[keep]
        # Triangles inside an eye or the mouth may close (by index: the iris points sit at 68 and 69).
        openings = [{i for i in group if i < 68 or self.irises is not None} for group in OPENINGS]
        self.closable = np.array([any(set(t.tolist()) <= g for g in openings) for t in self.triangles], bool)
        # Slivers (the nose's edge, seen turning) may flip without a visible fold: only larger ones count.
        face_area = np.ptp(self.points, axis=0).prod()
        self.visible = np.abs(self.source_areas) > SLIVER * face_area
        self._scale = min(1.0, MAP_SIDE / max(width, height))
        small = max(1, round(height * self._scale)), max(1, round(width * self._scale))
        ys, xs = np.mgrid[0:small[0], 0:small[1]].astype(np.float32)
        # Each map pixel's centre in full-size pixels (as cv2.resize places it), made once.
        self._grid = np.stack([(ys + 0.5) / self._scale - 0.5, (xs + 0.5) / self._scale - 0.5])

    def _control(self, points: np.ndarray, irises: np.ndarray | None, extra: np.ndarray) -> np.ndarray:
        lashes = lash_rows(points, self.lash_offsets)
        parts = [points] + ([] if irises is None else [irises]) + [lashes, extra, self.border]
        return np.concatenate(parts).astype(np.float32)

    def target_control(self, target: np.ndarray) -> np.ndarray:
        """Control points for target landmarks (the irises with the source's look kept).

        The head points follow the head's similarity transform and half of what their nearest face
        outline point does beyond it (a turned jaw pushes the cheek's ring out instead of folding
        into it); the neck follows part of the head's move and the shoulders part of its shift
        (`NECK_FOLLOW`, `SHOULDER_FOLLOW`); the background's still ring holds unless pushed (`_pushed`)."""
        move = similarity(self.points[RIGID], target[RIGID])
        head, anchors, neck, shoulders = self._head, self._anchors, self._neck, self._shoulders
        _, target_anchors, _ = _head_points(target, self._pick)
        moved_head = apply_similarity(head, move) + OUTLINE_FOLLOW * (target_anchors - apply_similarity(anchors, move))
        shift = apply_similarity(self._centre[None], move)[0] - self._centre
        source_extra = np.concatenate([head, neck, shoulders, self._still])
        moved = np.concatenate([moved_head, neck + NECK_FOLLOW * (apply_similarity(neck, move) - neck),
                                shoulders + SHOULDER_FOLLOW * shift,
                                self._pushed(np.concatenate([self.points[list(JAW)], head]),
                                             np.concatenate([target[list(JAW)], moved_head]))])
        still, full = source_extra[self.extra_kept], moved[self.extra_kept]
        extra = still + self.extra_follow * (full - still)
        return self._control(target, None if self.irises is None else self.look_kept(target), extra)

    def _pushed(self, moving: np.ndarray, moved: np.ndarray) -> np.ndarray:
        """The still background points, dragged along by the points that move near them (`moving` in
        the photo, `moved` in this frame: the face outline and the head's ring) wherever one of those
        moved by more than `STILL_ROOM` of its distance to the still point: the triangles between
        them stretch, squeeze and shear that far, and never turn over."""
        move = moved - moving  # (M, 2)
        length = np.linalg.norm(move, axis=1) + 1e-6
        distance = np.linalg.norm(self._still[:, None] - moving[None], axis=2)  # (K, M)
        share = np.maximum(0.0, 1.0 - STILL_ROOM * distance / length)  # (K, M) how much of each move to make
        pick = np.argmax(share * length, axis=1)
        return self._still + share[np.arange(len(pick)), pick, None] * move[pick]

    def look_kept(self, target: np.ndarray) -> np.ndarray:
        """(2, 2) the source's irises carried to `target` by their eyes (the same look)."""
        return np.stack([place_iris(target, eye, to_eye(self.points, eye, self.irises[eye])) for eye in (0, 1)])

    def folds(self, control: np.ndarray) -> bool:
        areas = _signed_areas(control, self.triangles) * np.sign(self.source_areas)
        shrunk = areas < MIN_AREA_RATIO * np.abs(self.source_areas)
        turned = areas < -MIN_AREA_RATIO * np.abs(self.source_areas)  # closing is fine, turning over is not
        # A closed mouth's or eye's slivers have no orientation to keep (which lip dlib put a hair
        # higher is noise): opening them may turn them over; their inside is drawn anew anyway.
        return bool(np.any((shrunk & ~self.closable | turned & self.closable) & self.visible))

    def safe_target(self, target: np.ndarray) -> tuple[np.ndarray, bool]:
        """Target control points that fold no triangle: blended towards the rigid motion if needed.
        The lids and lips are uncrossed and the jaw's own motion smoothed along it first, so the warp
        is exact at every landmark but the jaw's."""
        target = uncross(target)
        rigid = apply_similarity(self.points, similarity(self.points[RIGID], target[RIGID]))
        # The jaw's own motion (beyond the head's) smoothed along the jaw: dlib's outline points wander
        # a little as the mouth moves, and a 2D warp draws each wander as a notch in the cheek's edge.
        jaw = list(JAW)
        own = target[jaw] - rigid[jaw]
        padded = np.concatenate([own[:1], own, own[-1:]])
        target[jaw] = rigid[jaw] + 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
        control = self.target_control(target)
        if not self.folds(control):
            return control, False
        # Towards the head's rigid move first (keeps the pose, drops the expression), then towards
        # the source itself (a large turn against the pinned border), which cannot fold.
        candidates = [rigid + w * (target - rigid) for w in (0.75, 0.5, 0.25, 0.0)]
        candidates += [self.points + w * (rigid - self.points) for w in (0.5, 0.25)]
        for candidate in candidates:
            control = self.target_control(uncross(candidate))
            if not self.folds(control):
                return control, True
        return self.source, True

    def maps(self, control: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(map_x, map_y) for cv2.remap: for every target pixel, where to read in the source."""
        height, width = self.image.shape[:2]
        small = self._grid.shape[1:]
        index = np.full(small, -1, np.int32)
        raster = ((control + 0.5) * self._scale - 0.5) * 16  # map pixels, 4 fractional bits
        corners = np.round(raster[self.triangles]).astype(np.int32)  # (T, 3, 2)
        for t, corner in enumerate(corners):
            cv2.fillConvexPoly(index, corner, t, cv2.LINE_8, shift=4)
        # The affine map of each triangle, target -> source: [x, y, 1] @ A.T.
        dst = np.concatenate([control[self.triangles], np.ones((len(self.triangles), 3, 1), np.float32)], 2)
        src = self.source[self.triangles]  # (T, 3, 2)
        dst, src = dst.astype(np.float64), src.astype(np.float64)
        flat = np.abs(np.linalg.det(dst)) < 1e-6  # a closed lid or mouth: the least-squares map of a line
        affine = np.empty((len(dst), 3, 2))  # (T, 3, 2)
        affine[~flat] = np.linalg.solve(dst[~flat], src[~flat])
        affine[flat] = np.linalg.pinv(dst[flat]) @ src[flat]
        # Each pixel's map coefficients, gathered in one take from a (T + 1, 6) table whose last row
        # is the identity (the pixels no triangle covered: a rounding seam along the image border
        # read themselves); one gather of rows is several times faster than one per coefficient.
        table = np.concatenate([affine.reshape(-1, 6), [[1, 0, 0, 1, 0, 0]]]).astype(np.float32)
        index[index < 0] = len(affine)
        xx, xy, yx, yy, x0, y0 = np.take(table, index, axis=0).transpose(2, 0, 1).copy()  # each (h, w)
        ys, xs = self._grid
        map_x = xs * xx + ys * yx + x0
        map_y = xs * xy + ys * yy + y0
        if self._scale < 1:
            map_x = cv2.resize(map_x, (width, height), interpolation=cv2.INTER_LINEAR)
            map_y = cv2.resize(map_y, (width, height), interpolation=cv2.INTER_LINEAR)
        return map_x, map_y

    def __call__(self, target: np.ndarray) -> WarpResult:
        """The source image with its face moved to `target` (68, 2) landmarks (the irises, when the
        warp has them, carried by their eyes: `faces.eyes.turn_eyes` moves them after)."""
        control, clamped = self.safe_target(target)
        map_x, map_y = self.maps(control)
        source = self.image if self._rgba is None else self._rgba
        image = cv2.remap(source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if self._rgba is None:
            return WarpResult(image, clamped, control[:68].copy())
        alpha = image[..., 3].astype(np.float32) / 255
        return WarpResult(np.ascontiguousarray(image[..., :3]), clamped, control[:68].copy(), alpha)


def _irises_or_centres(points: np.ndarray, irises: np.ndarray) -> np.ndarray:
    """(2, 2) the irises, kept between their lids as every target's are (so no iris triangle starts
    turned over), each eye's middle where its iris is unknown (NaN)."""
    out = np.empty((2, 2), np.float32)
    for eye in (0, 1):
        uv = to_eye(points, eye, irises[eye]) if np.isfinite(irises[eye]).all() else np.array([0.5, 0.0], np.float32)
        out[eye] = place_iris(points, eye, uv)
    return out


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
