"""A patch laid into a picture made to look like it: the picture's colours (`match_colours`) and its fine
detail (`match_grain`: a painting's brush or an old photo's grain, not the patch's). Used for a face laid
back into its photo (`faces.paste`), a driver's mouth inside (`faces.mouth`) and shut lid (`faces.eyes`).
"""

import cv2
import numpy as np


def match_colours(image: np.ndarray, reference: np.ndarray, mask: np.ndarray, ref_mask: np.ndarray | None = None,
                  lightness: tuple[float, float] = (0.5, 2.0), colour: tuple[float, float] = (0.5, 2.0)
                  ) -> np.ndarray:
    """`image` with its per-channel mean and spread in `mask` moved to `reference`'s in `ref_mask` (LAB);
    the spread's gain is kept within `lightness` for L and `colour` for a and b."""
    ref_mask = mask if ref_mask is None else ref_mask
    sel, ref_sel = mask > 0.5, ref_mask > 0.5
    if sel.sum() < 8 or ref_sel.sum() < 8:
        return image
    lab, ref = (cv2.cvtColor(x, cv2.COLOR_RGB2LAB).astype(np.float32) for x in (image, reference))
    mean, std = lab[sel].mean(0), lab[sel].std(0) + 1e-3
    ref_mean, ref_std = ref[ref_sel].mean(0), ref[ref_sel].std(0) + 1e-3
    gain = ref_std / std
    gain = np.concatenate([np.clip(gain[:1], *lightness), np.clip(gain[1:], *colour)])
    out = (lab - mean) * gain + ref_mean
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def detail(image: np.ndarray) -> np.ndarray:
    """(H, W) float32: the grey image minus its blur, what grain, brush strokes and pores are made of."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return grey - cv2.GaussianBlur(grey, (0, 0), 1.0)


GRAIN_MAX = 4.0  # grey levels of grain added at most
GRAIN_SEED = 7  # one fixed grain pattern: it stays on the picture like a canvas's, not flickering


def match_grain(image: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`image` with the fine detail inside `mask` made as strong as `reference`'s there: blurred where
    it is sharper (a video's teeth in a soft painting), given grain where it is smoother."""
    sel = mask > 0.5
    if sel.sum() < 16:
        return image
    want, have = detail(reference)[sel].std(), detail(image)[sel].std()
    if have > 1.25 * want:
        for sigma in (0.6, 0.9, 1.3, 1.8, 2.5):
            softer = cv2.GaussianBlur(image, (0, 0), sigma)
            if detail(softer)[sel].std() <= 1.1 * want:
                return softer
        return softer
    if have < 0.8 * want:
        noise = np.random.default_rng(GRAIN_SEED).normal(0, 1, image.shape[:2]).astype(np.float32)
        noise = noise - cv2.GaussianBlur(noise, (0, 0), 1.0)  # the same band `detail` measures
        # At most GRAIN_MAX grey levels: a painting's strokes are not noise, and more reads as speckle.
        gain = min(np.sqrt(max(want ** 2 - have ** 2, 0.0)), GRAIN_MAX) / (noise[sel].std() + 1e-6)
        return np.clip(image + gain * noise[..., None], 0, 255).astype(np.uint8)
    return image
