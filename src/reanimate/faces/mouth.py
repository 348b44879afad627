"""The inside of an opening mouth: how open a face's mouth is, and teeth and tongue taken from another
face when a warp would only stretch closed lips ("Bringing Portraits to Life", Averbuch-Elor et al.
2017, Sec. 5: the mouth inside comes from the driver).

The donor's mouth is moved onto the target's lips, its colours matched to the face's lips (teeth
follow suit) and its fine detail to the face's (a painting keeps its brush, an old photo its grain).
"""

import cv2
import numpy as np

from reanimate.faces.eyes import draw_shut
from reanimate.faces.blend import match_grain
from reanimate.faces.warp import BROWS, INNER_LIPS, OUTER_LIPS, polygon_mask

def inner_gap(points: np.ndarray) -> float:
    """Pixels between the inner lips (68, 2 landmarks), the mean of their three facing pairs."""
    return float(np.linalg.norm(points[[61, 62, 63]] - points[[67, 66, 65]], axis=1).mean())


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over the face height: 0 closed, about 0.15-0.3 wide open."""
    return inner_gap(points) / float(np.linalg.norm(points[list(BROWS)].mean(0) - points[8]) + 1e-6)


MOUTH_GAIN = 1.3  # the target opens its mouth this much wider than the warped shot: fill the inside
MIN_OPENING = 0.04  # narrower gaps show no teeth
LIP_EDGE = 0.05  # of the mouth's width: the band along the inner lip line left out of the lips' colour


def needs_mouth(target: np.ndarray, shot_opening: float) -> bool:
    """Whether `target` (68, 2) opens its mouth wider than a warp of a shot opened `shot_opening` can show."""
    opening = mouth_opening(target)
    return opening > MIN_OPENING and opening > MOUTH_GAIN * shot_opening


def mouth_share(target: np.ndarray, shot_opening: float) -> float:
    """How much of the inside of `target`'s mouth (68, 2) should come from elsewhere, 0 to 1, for a warped
    face whose own mouth opens `shot_opening`: none up to that opening, all from `MOUTH_GAIN` times it
    (a soft step, so the inside does not flicker between two sources)."""
    opening = mouth_opening(target)
    wider = (opening - shot_opening) / ((MOUTH_GAIN - 1) * shot_opening + 0.25 * MIN_OPENING)
    parted = (opening - 0.5 * MIN_OPENING) / (0.5 * MIN_OPENING)
    return float(np.clip(min(wider, parted), 0.0, 1.0))


def widest_open(openings: list[float], shot: int, exclude: int | None = None) -> int | None:
    """The shot with the widest-open mouth (never `exclude`), or None if it is not clearly wider than `shot`'s."""
    widest = int(np.argmax([o if i != exclude else -1.0 for i, o in enumerate(openings)]))
    return widest if openings[widest] > MOUTH_GAIN * openings[shot] and widest != exclude else None


LIGHT_GAIN = (0.6, 1.8)  # the donor's lips are made at most this much darker or lighter
CHROMA_GAIN = 1.5  # the donor's colours are made at most this much more saturated


def match_mouth_colours(mouth: np.ndarray, face: np.ndarray, lips: np.ndarray) -> np.ndarray:
    """`mouth` (H, W, 3) uint8, a donor's mouth laid on `face`, coloured so that its lips (`lips` mask)
    take the face's lips' lightness and colour, teeth and tongue following suit.

    Lightness: the lips' mean moved onto the face's (at most `LIGHT_GAIN` darker or lighter) by scaling
    what is darker than it and drawing what is lighter linearly towards white: the dark of the mouth
    stays dark and teeth stay white with their gaps (a shift of the mean greyed the dark inside, which
    then read as closed lips; a squeeze of the spread by a smooth photo's lips greyed the teeth).
    Colour (LAB's a, b plane): a shift of every pixel by the lips' difference would tint the teeth with
    it (a warm-lipped driver onto pale lips turned them cyan-green), so the plane is turned and scaled
    about grey instead, taking the donor's lips' mean colour onto the face's: a colourless pixel
    (teeth) stays colourless, a black-and-white photo's mouth comes out grey, a painting's lips keep
    their hue. The gain is capped (`CHROMA_GAIN`); what it leaves of the lips' colour is added in
    proportion to how coloured a pixel is, so the lips land on the face's and the teeth stay white."""
    sel = lips > 0.5
    if sel.sum() < 8:
        return mouth
    lab, ref = (cv2.cvtColor(x, cv2.COLOR_RGB2LAB).astype(np.float32) for x in (mouth, face))
    light, ref_light = lab[..., 0], ref[..., 0]
    have, want = light[sel].mean(), ref_light[sel].mean()
    want = float(np.clip(want, have * LIGHT_GAIN[0], have * LIGHT_GAIN[1]))
    # Black stays black (the dark of the mouth stays dark), white stays white (teeth stay white), and
    # the lips' mean lands on the face's: scaled below it, drawn linearly towards white above it.
    light = np.where(light <= have, light * want / max(have, 1.0),
                     want + (light - have) * (255 - want) / max(255 - have, 1.0))
    chroma = (lab[..., 1] - 128) + 1j * (lab[..., 2] - 128)
    have, want = chroma[sel].mean(), ((ref[..., 1] - 128) + 1j * (ref[..., 2] - 128))[sel].mean()
    turn = want / have if abs(have) > 1.0 else 0j
    turn *= min(1.0, CHROMA_GAIN / (abs(turn) + 1e-6))
    rest = want - turn * have
    turned = turn * chroma + np.clip(np.abs(chroma) / max(abs(have), 1.0), 0, 1) * rest
    out = np.stack([light, turned.real + 128, turned.imag + 128], -1)
    return cv2.cvtColor(np.clip(np.rint(out), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def fill_mouth(face: np.ndarray, target: np.ndarray, donor: np.ndarray, donor_points: np.ndarray,
               share: float = 1.0) -> np.ndarray:
    """`face` (H, W, 3) uint8 at landmarks `target`, with the inside of its mouth taken from another
    face (`donor` at `donor_points`), moved onto the target's inner lips and coloured like `face`;
    `share` < 1 blends it over the face's own. Only a box around the mouth is worked on, so a whole
    photo costs what a face crop does."""
    lips = list(OUTER_LIPS) + list(INNER_LIPS)
    height, width = face.shape[:2]
    x0, y0 = np.floor(target[lips].min(0) - 8).astype(int).clip(0, [width - 1, height - 1])
    x1, y1 = np.ceil(target[lips].max(0) + 8).astype(int).clip([x0 + 1, y0 + 1], [width, height])
    box, at = face[y0:y1, x0:x1], target - [x0, y0]
    size = box.shape[1], box.shape[0]
    matrix, _ = cv2.estimateAffinePartial2D(donor_points[lips], at[lips])
    if matrix is None:
        return face
    matrix = _fit_opening(matrix, donor_points, at)
    mouth = cv2.warpAffine(donor, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inner = polygon_mask(at[list(INNER_LIPS)], size)
    mouth_width = np.linalg.norm(at[54] - at[48])
    # The lips themselves, kept clear of the inner lip line: dlib puts it a little inside an open
    # mouth, and teeth counted as lip would grey the teeth in the colour match and blur them in the
    # grain match. Thin lips (a painting's) keep their whole ring: a sliver gives no colour to trust.
    ring = np.clip(polygon_mask(at[list(OUTER_LIPS)], size) - inner, 0, 1)
    edge = max(1, round(LIP_EDGE * mouth_width))
    near_inner = cv2.dilate(inner, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge + 1,) * 2))
    clear = np.clip(ring - near_inner, 0, 1)
    ring = clear if clear.sum() >= 0.5 * ring.sum() else ring
    mouth = match_mouth_colours(mouth, box, ring)
    mouth = match_grain(mouth, box, ring)  # a painting's brush or an old photo's grain, not the donor's
    blend = share * cv2.GaussianBlur(inner, (0, 0), max(0.8, 0.02 * mouth_width))[..., None]
    out = face.copy()
    out[y0:y1, x0:x1] = np.rint(box + blend * (mouth.astype(np.float32) - box)).astype(np.uint8)
    return out


OPENING_FIT = (0.35, 1.5)  # the donor's inside is squeezed or stretched across the mouth at most this much


def _fit_opening(matrix: np.ndarray, donor_points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`matrix` (2, 3: the donor's lips laid on the target's by a similarity) with the donor's inside
    scaled across the mouth so that its inner lips open as far as the target's: a driver opened wider
    than the target keeps its whole inside (upper teeth, the dark of the mouth, the tongue) instead
    of showing only its middle, which, cut out of a pale mouth, reads as closed lips."""
    laid = cv2.transform(donor_points[None].astype(np.float32), matrix)[0]
    have, want = inner_gap(laid), inner_gap(target)
    if have < 1.0 or want < 1.0:
        return matrix
    scale = float(np.clip(want / have, *OPENING_FIT))
    along = target[54] - target[48]
    along = along / (np.linalg.norm(along) + 1e-6)
    across = np.array([-along[1], along[0]])
    centre = target[list(INNER_LIPS)].mean(0)
    squeeze = np.eye(2) + (scale - 1) * np.outer(across, across)  # scale only across the mouth, about its centre
    full = np.vstack([matrix, [0, 0, 1]])
    about = np.eye(3)
    about[:2, :2], about[:2, 2] = squeeze, centre - squeeze @ centre
    return (about @ full)[:2].astype(np.float64)


LIPS_SHUT = 0.4  # of MIN_OPENING: a mouth opened less is drawn shut, one opened MIN_OPENING or more as warped
LIP_LINE = 0.025  # the line where closed lips meet, in mouth widths


def lips_closedness(target: np.ndarray, source: np.ndarray) -> float:
    """How shut `target`'s mouth (68, 2) is drawn when the photo's (`source`) shows its inside: 0 from
    `MIN_OPENING` up (a parted mouth shows its teeth), 1 at `LIPS_SHUT` of it or less; 0 for a photo
    whose mouth shows nothing inside."""
    if mouth_opening(source) < MIN_OPENING:
        return 0.0
    return float(np.clip((MIN_OPENING - mouth_opening(target)) / ((1 - LIPS_SHUT) * MIN_OPENING), 0, 1))


def close_lips(image: np.ndarray, target: np.ndarray, source: np.ndarray) -> np.ndarray:
    """`image` (H, W, 3) uint8 of a face warped to `target` (68, 2: the landmarks the warp drew) with a
    mouth closing from the photo's open one (`source` landmarks) drawn closed.

    dlib's inner lip line sits a little inside an open mouth, on the teeth, so the warp squeezes the
    photo's teeth into the closing slit and a strip of them stays between the lips, read as a mouth
    still open (the eyes' case, `faces.eyes.close_lids`). The slit and a band along the inner lip line
    are filled from the lips around them (inpainting), the line where the lips meet drawn in the lips'
    own darker shade, the whole blended in as the mouth shuts (`lips_closedness`)."""
    shut = lips_closedness(target, source)
    if shut <= 0:
        return image
    height, width = image.shape[:2]
    outer = target[list(OUTER_LIPS)]
    mouth_width = float(np.linalg.norm(target[54] - target[48]))
    if mouth_width < 8:
        return image
    x0, y0 = np.floor(outer.min(0) - 4).astype(int).clip(0, [width - 1, height - 1])
    x1, y1 = np.ceil(outer.max(0) + 4).astype(int).clip([x0 + 1, y0 + 1], [width, height])
    box, at = image[y0:y1, x0:x1], target - [x0, y0]
    size = box.shape[1], box.shape[0]
    edge = max(1, round(LIP_EDGE * mouth_width))
    band = np.zeros(box.shape[:2], np.uint8)
    loop = np.round(at[list(INNER_LIPS)] * 16).astype(np.int32)
    cv2.fillPoly(band, [loop], 255, cv2.LINE_8, shift=4)
    cv2.polylines(band, [loop], True, 255, 2 * edge + 1, cv2.LINE_8, shift=4)  # a closed slit has no inside
    ring = np.clip(polygon_mask(outer - [x0, y0], size) - band / 255.0, 0, 1)
    if ring.sum() < 16:
        return image
    lips = box[ring > 0.5].reshape(-1, 3).astype(np.float32)
    shade = np.percentile(lips, 15, axis=0) * 0.8  # where closed lips meet: darker than the lips
    meet = np.array([at[60], (at[61] + at[67]) / 2, (at[62] + at[66]) / 2, (at[63] + at[65]) / 2, at[64]], np.float32)
    out = image.copy()
    out[y0:y1, x0:x1] = draw_shut(box, band, meet, shade, shut, fill_radius=max(2, edge),
                                  line_width=max(1, int(round(LIP_LINE * mouth_width))),
                                  line_soft=max(0.5, 0.01 * mouth_width), edge_soft=max(0.7, 0.015 * mouth_width))
    return out
