"""Eyes beyond dlib's 68 points: where each iris is, and where it looks, in the eye's own frame.

dlib's landmarks outline the lids but carry no iris. The iris is found in the image (an eye-centre
localisation after Timm & Barth 2011, by darkness rather than gradients): inside the lid polygon, the
disc of iris size that is darkest. Why not mediapipe's iris model: its last wheel with the models
pins numpy < 2 and pulls jax and opencv-contrib; the disc search needs nothing and runs in about
0.25 ms per eye. Its accuracy (synthetic pupils) and jitter (real clips) are in RESULTS.md.

An iris position is kept in the eye's frame: u along the corner-to-corner line (0 at the outer
corner of the left-hand eye, 1 at its other corner), v across it, both in eye widths. A gaze slides
the iris whole along (u, v) inside the lids (`turn_eyes`); the lids' own landmarks move the rest.
"""

import cv2
import numpy as np

from reanimate.faces.blend import match_colours, match_grain

EYE_POINTS = (list(range(36, 42)), list(range(42, 48)))  # the two eyes, image left then right
UPPER, LOWER = ((37, 38), (43, 44)), ((41, 40), (47, 46))  # per eye: the upper lid's points, the lower's facing them
EYE_WIDTH = 48  # pixels: each eye is searched at this width, whatever the face's size
IRIS_RADIUS = 0.2  # the iris radius, in eye widths (about 6 of the 30 mm between the corners)
LID_BAND = 7  # pixels at EYE_WIDTH: the band along the lids that is left out of the search
MIN_OPEN = 0.18  # lid gap over eye width: a narrower eye is closed (or nearly) and shows no iris to find
MIN_CONTRAST = 12.0  # grey levels the iris disc is darker than the rest of the eye: else none is found
MIN_EYE = 14.0  # pixels between the corners: a smaller eye's iris is lost in noise and not looked for


def eye_frame(points: np.ndarray, eye: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin, along, across) of eye 0 or 1 in `points` (68, 2): corner, the corner-to-corner vector
    and the same turned 90 degrees (pointing down the face)."""
    idx = EYE_POINTS[eye]
    origin, along = points[idx[0]], points[idx[3]] - points[idx[0]]
    return origin, along, np.array([-along[1], along[0]], np.float32)


def to_eye(points: np.ndarray, eye: int, xy: np.ndarray) -> np.ndarray:
    """Image point (2,) -> (u, v) in the eye's frame."""
    origin, along, across = eye_frame(points, eye)
    d = xy - origin
    width2 = float(along @ along) + 1e-9
    return np.array([d @ along / width2, d @ across / width2], np.float32)


def from_eye(points: np.ndarray, eye: int, uv: np.ndarray) -> np.ndarray:
    """(u, v) in the eye's frame -> image point (2,)."""
    origin, along, across = eye_frame(points, eye)
    return (origin + uv[0] * along + uv[1] * across).astype(np.float32)


def eye_opening(points: np.ndarray, eye: int) -> float:
    """The gap between the lids over the eye's width (about 0.3 open, under 0.1 closed)."""
    upper, lower = UPPER[eye], LOWER[eye]
    gap = np.linalg.norm(points[list(upper)] - points[list(lower)], axis=1).mean()
    return float(gap / (np.linalg.norm(eye_frame(points, eye)[1]) + 1e-6))


def find_irises(gray: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(2, 2) iris centres of both eyes in image pixels, NaN for an eye whose iris is not seen
    (closed, too small, hidden by glasses' glare or hair: no dark disc stands out)."""
    return np.stack([_find_iris(gray, points, eye) for eye in (0, 1)])


def _find_iris(gray: np.ndarray, points: np.ndarray, eye: int) -> np.ndarray:
    missing = np.full(2, np.nan, np.float32)
    origin, along, across = eye_frame(points, eye)
    width = float(np.linalg.norm(along))
    if width < MIN_EYE or eye_opening(points, eye) < MIN_OPEN:
        return missing
    # The eye, turned level and scaled to EYE_WIDTH: u in [-0.1, 1.1], v in [-0.5, 0.5].
    scale = EYE_WIDTH / width
    out_w, out_h = int(EYE_WIDTH * 1.2), int(EYE_WIDTH)
    src = np.float32([origin - 0.1 * along - 0.5 * across, origin + 1.1 * along - 0.5 * across,
                      origin - 0.1 * along + 0.5 * across])
    dst = np.float32([[0, 0], [out_w, 0], [0, out_h]])
    matrix = cv2.getAffineTransform(src, dst)
    view = cv2.warpAffine(gray, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lids = cv2.transform(points[EYE_POINTS[eye]][None].astype(np.float32), matrix)[0]
    mask = np.zeros_like(view, np.uint8)
    cv2.fillPoly(mask, [np.round(lids * 4).astype(np.int32)], 1, cv2.LINE_8, shift=2)
    # The lid margins (lashes, liner, the lid's shadow) are darker than any iris: look inside them.
    mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (LID_BAND, LID_BAND))).astype(np.float32)
    if mask.sum() < 20:
        return missing
    dark = (255.0 - view.astype(np.float32)) * mask
    radius = max(2, int(round(IRIS_RADIUS * EYE_WIDTH)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)).astype(np.float32)
    # Mean darkness of the visible part of a disc at each place (the lids cover the iris's top and bottom).
    covered = cv2.filter2D(mask, -1, disc, borderType=cv2.BORDER_CONSTANT)  # (h, w) visible disc area
    total = cv2.filter2D(dark, -1, disc, borderType=cv2.BORDER_CONSTANT)  # darkness within the disc
    # Over the whole disc, not its visible part: a disc half over the lid's dark margin scores less
    # than one on the iris.
    score = total / disc.sum()
    score[(covered < 0.3 * disc.sum()) | (mask < 0.5)] = -1  # centres inside the eye, partly visible
    y, x = np.unravel_index(int(np.argmax(score)), score.shape)
    if score[y, x] <= 0:
        return missing
    inside = total[y, x] / covered[y, x]
    rest = (dark.sum() - total[y, x]) / max(mask.sum() - covered[y, x], 1.0)
    if inside - rest < MIN_CONTRAST:
        return missing
    # Sub-pixel: the score-weighted centre of the peak's neighbourhood.
    y0, y1, x0, x1 = max(y - 2, 0), min(y + 3, out_h), max(x - 2, 0), min(x + 3, out_w)
    patch = np.clip(score[y0:y1, x0:x1] - score[y, x] + 8.0, 0, None)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    centre = np.array([(xs * patch).sum(), (ys * patch).sum()]) / max(patch.sum(), 1e-6)
    return cv2.transform(centre[None, None].astype(np.float32), cv2.invertAffineTransform(matrix))[0, 0]


def gaze(points: np.ndarray, irises: np.ndarray) -> np.ndarray:
    """(2, 2) (u, v) of each iris in its eye's frame; NaN where the iris is not seen."""
    return np.stack([to_eye(points, eye, irises[eye]) if np.isfinite(irises[eye]).all()
                     else np.full(2, np.nan, np.float32) for eye in (0, 1)])


def smooth_gaze(track: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """(N, 2, 2) gaze over time with the detector's jitter smoothed out; frames without an iris take
    the nearest seen value (a blink holds the look), an eye never seen stays NaN."""
    track = np.array(track, np.float32)
    for eye in (0, 1):
        seen = np.isfinite(track[:, eye]).all(1)
        if not seen.any():
            continue
        index = np.arange(len(track))
        for c in (0, 1):
            track[:, eye, c] = np.interp(index, index[seen], track[seen, eye, c])
        if sigma > 0 and len(track) > 1:
            track[:, eye] = _blur(track[:, eye], sigma)
    return track


def _blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """(N, C) values blurred along N with a Gaussian of `sigma` samples (edges repeated)."""
    radius = int(3 * sigma + 0.5)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, ((radius, radius), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, c], kernel, mode="valid") for c in range(values.shape[1])], 1)


def lids_at(points: np.ndarray, eye: int, u: float) -> tuple[float, float]:
    """(v of the upper lid, v of the lower lid) at `u` along the eye, in the eye's frame."""
    idx = EYE_POINTS[eye]
    upper = np.array([to_eye(points, eye, points[i]) for i in (idx[0], idx[1], idx[2], idx[3])])
    lower = np.array([to_eye(points, eye, points[i]) for i in (idx[0], idx[5], idx[4], idx[3])])
    return (float(np.interp(u, *upper[np.argsort(upper[:, 0])].T)),
            float(np.interp(u, *lower[np.argsort(lower[:, 0])].T)))


def place_iris(target: np.ndarray, eye: int, uv: np.ndarray) -> np.ndarray:
    """The image point (2,) at (u, v) in an eye of `target` (68, 2), kept well between its lids (on
    the lid line when they meet: a closed eye hides its iris), so the iris's triangles never turn over."""
    u = float(np.clip(uv[0], 0.25, 0.75))
    upper, lower = lids_at(target, eye, u)
    gap = max(lower - upper, 0.0)
    v = float(np.clip(uv[1], upper + 0.35 * gap, lower - 0.35 * gap)) if gap > 1e-3 else 0.5 * (upper + lower)
    return from_eye(target, eye, np.array([u, v], np.float32))


def iris_targets(source_gaze: np.ndarray, look: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(2, 2) where the source's irises go in a target face (68, 2): the source's own look (`gaze`)
    moved by `look` (2, 2: how far the driver's irises moved since its start, in eye widths), kept
    between the target's lids. NaN for an eye whose iris the source does not show (glasses, hair):
    that eye keeps the photo's look; an unknown `look` keeps it too.
    """
    out = np.full((2, 2), np.nan, np.float32)
    for eye in (0, 1):
        uv = np.array(source_gaze[eye], np.float32)
        if not np.isfinite(uv).all():
            continue
        if np.isfinite(look[eye]).all():
            uv = uv + look[eye]
        out[eye] = place_iris(target, eye, uv)
    return out


def turn_eyes(image: np.ndarray, target: np.ndarray, kept: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """`image` (H, W, 3) uint8 of a face at `target` (68, 2) with each iris slid, whole, from `kept`
    (2, 2: where the warp left it) to `wanted`, inside its lids: the white on one side is squeezed
    and on the other stretched, the disc itself keeps its shape, and under the fixed lids it hides
    as a real eye's does. (Moving the iris's centre in the face mesh would smear the disc.)"""
    out = image
    for eye in (0, 1):
        start, end = kept[eye], wanted[eye]
        if not (np.isfinite(start).all() and np.isfinite(end).all()) or np.linalg.norm(end - start) < 0.25:
            continue
        out = _slide_iris(out, target, eye, to_eye(target, eye, start), to_eye(target, eye, end))
    return out


def _slide_iris(image: np.ndarray, target: np.ndarray, eye: int, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    lids = target[EYE_POINTS[eye]]
    origin, along, across = eye_frame(target, eye)
    height, width = image.shape[:2]
    x0, y0 = np.floor(lids.min(0) - 2).astype(int).clip(0, [width - 1, height - 1])
    x1, y1 = np.ceil(lids.max(0) + 2).astype(int).clip([x0 + 1, y0 + 1], [width, height])
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.stack([xs - origin[0], ys - origin[1]], -1)  # (h, w, 2)
    width2 = float(along @ along) + 1e-9
    u, v = d @ along / width2, d @ across / width2  # every pixel in the eye's frame
    # Along the eye: the iris band [start - r, start + r] moves rigidly to [end - r, end + r]; the
    # white between it and the corners takes up the difference.
    r = min(IRIS_RADIUS, end[0] - 0.02, 0.98 - end[0], start[0] - 0.02, 0.98 - start[0])
    if r <= 0.02:
        return image
    source_u = np.interp(u, [0.0, end[0] - r, end[0] + r, 1.0], [0.0, start[0] - r, start[0] + r, 1.0],
                         left=np.nan, right=np.nan)
    source_u = np.where(np.isfinite(source_u), source_u, u)
    band = np.clip(1 - np.abs(u - end[0]) / (2 * r), 0, 1)  # a look up or down moves the iris's rows
    source_v = v - band * (end[1] - start[1])
    map_xy = origin + source_u[..., None] * along + source_v[..., None] * across  # (h, w, 2)
    box = image[y0:y1, x0:x1]
    slid = cv2.remap(image, map_xy[..., 0].astype(np.float32), map_xy[..., 1].astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
    mask = np.zeros(box.shape[:2], np.float32)
    cv2.fillPoly(mask, [np.round((lids - [x0, y0]) * 4).astype(np.int32)], 1.0, cv2.LINE_AA, shift=2)
    mask = cv2.GaussianBlur(mask, (0, 0), 0.5)[..., None]
    out = image.copy()
    out[y0:y1, x0:x1] = np.rint(box + mask * (slid.astype(np.float32) - box)).astype(np.uint8)
    return out


# Eye widths beyond each lid's points: the lashes and liner there move with their lid. The upper
# row is farther: dlib puts the upper lid's points on the iris, often a sixth of the eye's width
# below the lid's real margin (looked at on real 512 px faces); it stays well below the brow
# (BROW_SHARE of the way there), or a low brow would be dragged down with a closing lid.
UPPER_ROW, LOWER_ROW, BROW_SHARE = 0.25, 0.12, 0.35
BROW_OF = (range(17, 22), range(22, 27))  # each eye's brow
ROW_ABOVE = ((36, 37, 38, 39), (42, 43, 44, 45))  # per eye: the corners and the upper lid, in order
CORNER_ROW = 0.5  # the row over a corner is this much nearer than over the lid: the band tapers there


def lash_offsets(points: np.ndarray) -> np.ndarray:
    """(12,) how far beyond its lid point each of `lash_rows`' points sits in the photo `points`
    (68, 2), in eye widths: made once from the photo, so the band keeps its width as the lid moves."""
    out = []
    for eye in (0, 1):
        width = float(np.linalg.norm(eye_frame(points, eye)[1])) + 1e-6
        brow = points[list(BROW_OF[eye])]
        for k, i in enumerate(ROW_ABOVE[eye]):
            far = UPPER_ROW * (CORNER_ROW if k in (0, 3) else 1.0)
            out.append(min(far, BROW_SHARE * np.linalg.norm(brow - points[i], axis=1).min() / width))
        out += [LOWER_ROW] * len(LOWER[eye])
    return np.array(out, np.float32)


def lash_rows(points: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(12, 2) per eye: points above its outer corner, its upper lid and its inner corner (4), then
    below its lower lid (2), `offsets` (`lash_offsets`) eye widths away from those of `points` (68, 2).

    In the warp's mesh (`faces.warp`) they make the thin band of lashes and liner along a lid move
    with it whole: a closing lid stretches the lid skin between the band and the brow, as a real one
    does, instead of stretching the lash line itself into a thick dark almond that reads as open."""
    rows = []
    for eye in (0, 1):
        across = eye_frame(points, eye)[2]  # one eye width, pointing down the face
        rows += [points[i] - offsets[6 * eye + k] * across for k, i in enumerate(ROW_ABOVE[eye])]
        rows += [points[i] + offsets[6 * eye + 4 + k] * across for k, i in enumerate(LOWER[eye])]
    return np.array(rows, np.float32)


CLOSING, SHUT = 0.4, 0.1  # eye opening against the photo's: from CLOSING it is drawn shutting, shut at SHUT
LASH_WIDTH = 0.06  # the lash line of a shut eye, in eye widths
SHUT_PHOTO = 0.12  # a photo's eye opened less than this (lid gap over eye width) is already shut
LID_REST = 0.3  # a shut lid's lash line sags this share of the photo's lower lid's depth below the corners' line


def closedness(target: np.ndarray, source: np.ndarray, eye: int) -> float:
    """How shut eye 0 or 1 of `target` (68, 2) is against the photo's (`source`): 0 at `CLOSING` of
    its opening or more, 1 at `SHUT` or less."""
    have = eye_opening(source, eye)
    if have < SHUT_PHOTO:
        return 0.0  # a photo with shut eyes (dlib reads them 0.05-0.1 open): nothing to close
    return float(np.clip((CLOSING - eye_opening(target, eye) / have) / (CLOSING - SHUT), 0, 1))


def close_lids(image: np.ndarray, target: np.ndarray, source: np.ndarray, offsets: np.ndarray | None = None,
               donor: np.ndarray | None = None, donor_points: np.ndarray | None = None) -> np.ndarray:
    """`image` (H, W, 3) uint8 of a face warped to `target` (68, 2: the landmarks the warp drew, its
    lids uncrossed) with each closing eye drawn shut; `offsets`: the warp's `lash_offsets(source)`.

    The warp squeezes the photo's open eye (`source` landmarks) into the closing slit, and dlib's
    lid points sit a little inside the real lid margins, so white, iris and lash glints stay along
    the slit and read as an eye still open. A shut eye shows lid skin down to one lash line: the eye
    and the lash bands beside it (out to `lash_rows`) are covered with lid skin, the lash line drawn
    where the lids meet in the photo's darkest colour there, and the whole blended in as the eye
    shuts (`closedness`). The lid skin is the driver's own shut lid where `donor` (an image, its
    landmarks `donor_points`) shows that eye shut (`donor_shut`), laid on by the eye's corners in
    the photo's colours and grain: a real lid's shading and lashes, which a face reader (dlib, a
    viewer) takes for a shut eye where skin filled in from around the eye (inpainting, used
    otherwise) left a smooth patch in the eye's outline that small and painted faces read as open."""
    out = image
    for eye in (0, 1):
        shut = closedness(target, source, eye)
        if shut > 0:
            offsets = lash_offsets(source) if offsets is None else offsets
            lid = None if donor is None or donor_points is None else (donor, donor_points)
            out = _shut_eye(out, target, eye, shut, lash_rows(target, offsets), shut_line(target, source, eye, shut),
                            lid)
    return out


DONOR_OPEN, DONOR_SHUT = 0.2, 0.12  # lid gap over eye width: a donor's eye this open lends no lid, this shut all of it


def donor_shut(points: np.ndarray, eye: int) -> float:
    """How much of a shut lid eye 0 or 1 of a donor face (`points`, 68, 2) can lend: 0 for an open eye
    (its iris would be laid into the photo), 1 for one dlib reads as shut (about 0.1 of its width)."""
    return float(np.clip((DONOR_OPEN - eye_opening(points, eye)) / (DONOR_OPEN - DONOR_SHUT), 0, 1))


def shut_line(target: np.ndarray, source: np.ndarray, eye: int, shut: float, samples: int = 16) -> np.ndarray:
    """(samples, 2) the lash line of eye 0 or 1 of `target` as it shuts by `shut` (0-1), corner to corner.

    A shut eye's lash line is an arc that sags below the line between the corners, as the lower lid
    does: the upper lid comes down over the eyeball onto it. dlib's points of a closed eye, and the
    midpoints of a closing one, lie nearly on the corners' line, and a lash line drawn straight through
    them reads as a stroke of ink. So the line's inner points go down towards the photo's own lower
    lid (`source`, in the eye's frame), to LID_REST of its depth, as the eye shuts, and a cubic through
    them and the corners is sampled: the arc of that photo's eye."""
    u, v = [], []
    for upper, lower in zip(UPPER[eye], LOWER[eye]):
        meet = to_eye(target, eye, (target[upper] + target[lower]) / 2)
        rest = LID_REST * to_eye(source, eye, source[lower])[1]
        u.append(meet[0])
        v.append(meet[1] + shut * max(0.0, rest - meet[1]))
    # v = u (1 - u) (c0 + c1 u): zero at both corners, through both inner points (lopsided as theirs)
    u, v = np.array(u, np.float64), np.array(v, np.float64)
    bump = u * (1 - u)
    c0, c1 = np.linalg.lstsq(np.stack([bump, bump * u], 1), v, rcond=None)[0]
    along = np.linspace(0, 1, samples)
    sag = along * (1 - along) * (c0 + c1 * along)
    origin, corner_to_corner, down = eye_frame(target, eye)  # from_eye, for all samples at once
    return (origin + np.outer(along, corner_to_corner) + np.outer(sag, down)).astype(np.float32)


def _shut_eye(image: np.ndarray, target: np.ndarray, eye: int, shut: float, rows: np.ndarray,
              line: np.ndarray, lid: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    idx = EYE_POINTS[eye]
    width = float(np.linalg.norm(eye_frame(target, eye)[1]))
    if width < 4:
        return image
    rows = rows[6 * eye:6 * eye + 6]  # above 36, 37, 38, 39; below 41, 40 (eye 0)
    # The eye with its lash bands: outer corner, over the upper lid, inner corner, under the lower lid.
    region = np.array([target[idx[0]], *rows[:4], target[idx[3]], rows[5], rows[4]], np.float32)
    height, full_width = image.shape[:2]
    pad = 0.2 * width + 3
    x0, y0 = np.floor(region.min(0) - pad).astype(int).clip(0, [full_width - 1, height - 1])
    x1, y1 = np.ceil(region.max(0) + pad).astype(int).clip([x0 + 1, y0 + 1], [full_width, height])
    box = image[y0:y1, x0:x1]
    at = region - [x0, y0]
    band = np.zeros(box.shape[:2], np.uint8)
    cv2.fillPoly(band, [np.round(at * 4).astype(np.int32)], 255, cv2.LINE_8, shift=2)
    band = cv2.dilate(band, np.ones((3, 3), np.uint8))
    if not band.any():
        return image
    # The lashes' colour: the darkest of the lash bands, not of the eye (a dark iris is not a lash).
    eye_only = np.zeros_like(band)
    cv2.fillPoly(eye_only, [np.round((target[idx] - [x0, y0]) * 4).astype(np.int32)], 255, cv2.LINE_8, shift=2)
    lash_band = (band > 0) & (eye_only == 0)
    lashes = np.percentile(box[lash_band if lash_band.sum() >= 8 else band > 0].reshape(-1, 3), 3, axis=0)
    fill_radius = max(2, int(round(0.1 * width)))
    skin = None
    if lid is not None and (lend := donor_shut(lid[1], eye)) > 0:
        donor_lid = _laid_lid(box, band, target[[idx[0], idx[3]]] - [x0, y0], *lid, eye, fill_radius)
        if donor_lid is not None:
            skin = donor_lid.astype(np.float32)
            if lend < 1:  # a driver's eye half shut: its lid blended over skin filled in from around
                filled = cv2.inpaint(box, band, fill_radius, cv2.INPAINT_TELEA).astype(np.float32)
                skin = filled + lend * (skin - filled)
    out = image.copy()
    out[y0:y1, x0:x1] = draw_shut(box, band, line - [x0, y0], lashes, shut, fill_radius=fill_radius,
                                  line_width=max(1, int(round(LASH_WIDTH * width))), line_soft=max(0.5, 0.02 * width),
                                  edge_soft=max(0.7, 0.03 * width), filled=skin)
    return out


def _laid_lid(box: np.ndarray, band: np.ndarray, corners: np.ndarray, donor: np.ndarray, donor_points: np.ndarray,
              eye: int, ring_width: int) -> np.ndarray | None:
    """The donor's eye (`donor` image at `donor_points`) laid on `box` (h, w, 3) by eye `eye`'s two corners
    (`corners`, box pixels), its colours and grain matched to `box`'s on a ring just outside `band`."""
    idx = EYE_POINTS[eye]
    # The similarity taking the donor's corners onto the target's, as complex numbers: z -> turn * z + shift.
    src0, src1 = complex(*donor_points[idx[0]]), complex(*donor_points[idx[3]])
    dst0, dst1 = complex(*corners[0]), complex(*corners[1])
    if abs(src1 - src0) < 1.0:
        return None
    turn = (dst1 - dst0) / (src1 - src0)
    shift = dst0 - turn * src0
    matrix = np.array([[turn.real, -turn.imag, shift.real], [turn.imag, turn.real, shift.imag]])
    laid = cv2.warpAffine(donor, matrix, (box.shape[1], box.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring_width + 1,) * 2)
    ring = (cv2.dilate(band, grow) & ~band).astype(np.float32) / 255
    if ring.sum() < 16:
        return None
    # Colour down to none: a black-and-white photo gets a grey lid, not the driver's skin tones at half strength.
    laid = match_colours(laid, box, ring, lightness=(0.5, 2.0), colour=(0.0, 1.5))
    return match_grain(laid, box, ring)  # a painting's brush or an old photo's grain, not the driver's


def draw_shut(box: np.ndarray, band: np.ndarray, line: np.ndarray, shade: np.ndarray, shut: float, *,
              fill_radius: int, line_width: int, line_soft: float, edge_soft: float,
              filled: np.ndarray | None = None) -> np.ndarray:
    """`box` (h, w, 3) uint8 with an opening drawn shut: `band` (h, w; 255 inside) filled from the
    skin around it (inpainting, or `filled`: (h, w, 3) float32 to use instead), a line through `line`
    (K, 2) where its edges meet in `shade` (3,), blended in by `shut` (0-1) with soft edges (pixels,
    sigma). A shut eye's lid and lash line, a closed mouth's lips and the line between them
    (`faces.mouth.close_lips`)."""
    if filled is None:
        filled = cv2.inpaint(box, band, fill_radius, cv2.INPAINT_TELEA).astype(np.float32)
    ink = np.zeros(box.shape[:2], np.float32)
    cv2.polylines(ink, [np.round(line * 16).astype(np.int32)], False, 1.0, line_width, cv2.LINE_AA, shift=4)
    ink = cv2.GaussianBlur(ink, (0, 0), line_soft)[..., None]
    drawn = filled * (1 - ink) + shade * ink
    blend = shut * cv2.GaussianBlur(band.astype(np.float32) / 255, (0, 0), edge_soft)[..., None]
    blend = np.maximum(blend, shut * ink)
    return np.rint(box + blend * (drawn - box)).astype(np.uint8)
