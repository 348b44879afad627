"""Keyframes and the random patch sampler that feeds training (Texler et al., Sec. 4).

Images become float tensors in [-1, 1], (C, H, W). Patches are cut from the network input of a
keyframe and, at the same place, from its painted style; their centres lie inside the mask,
eroded by half a patch so a patch never reaches outside the region the artist marked.
"""

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from reanimate.core.errors import UserError
from reanimate.io.image import read_image, read_mask


@dataclass
class Keyframe:
    """One painted frame: `index` in the video, the original `frame`, the `style` and an optional `mask`."""

    index: int
    frame: np.ndarray  # (H, W, 3) uint8
    style: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray | None = None  # (H, W) bool, True = train here


def nearest_key(keys, index: int) -> int:
    """The keyframe (of the indices `keys`) a frame follows: the nearest in time, the earlier on a tie."""
    return min(keys, key=lambda k: (abs(k - index), k))


def valid_centres(mask: np.ndarray | None, shape: tuple[int, int], patch: int, erosion: int = 0) -> np.ndarray:
    """Flat indices of pixels that can be a patch centre: inside the eroded mask and the frame."""
    height, width = shape
    half = patch // 2
    if height < patch or width < patch:
        raise UserError(f"frames of {width}x{height} are smaller than the {patch}x{patch} training patch: "
                        "use a smaller `patch_size`")
    allowed = np.zeros(shape, bool)
    allowed[half:height - (patch - half) + 1, half:width - (patch - half) + 1] = True
    if mask is not None:
        radius = half + erosion
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        eroded = cv2.erode(mask.astype(np.uint8), kernel, borderValue=0).astype(bool)
        allowed &= eroded
    return np.flatnonzero(allowed)


def centre_weights(style: torch.Tensor, centres: np.ndarray, patch: int, detail: float) -> np.ndarray:
    """How often each centre is drawn: 1 + `detail` x the edge density of the painting in the patch
    around it (the mean gradient magnitude, over its mean across the centres)."""
    luma = style.float().mean(0).numpy()
    edges = np.hypot(cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1))
    density = cv2.boxFilter(edges, -1, (patch, patch)).ravel()[centres].astype(np.float64)
    return 1.0 + detail * density / max(density.mean(), 1e-12)


class PatchSampler:
    """Random aligned (input, style) patch pairs from all keyframes, and random style patches for D.

    Args:
        inputs: per keyframe, the network input (C, H, W) in [-1, 1].
        styles: per keyframe, the painted style (3, H, W) in [-1, 1].
        masks: per keyframe, None or a bool (H, W) mask.
        patch: Wp, the side of a square patch.
        erosion: extra mask erosion in pixels.
        names: labels for error messages (e.g. "keyframe 30").
        detail: 0 draws every valid centre equally often; above 0, a centre is drawn in proportion
            to 1 + detail x (the painting's edge density around it over the keyframe's mean), so
            outlines, strokes and small textured regions are not outnumbered by flat paper or wall.
    """

    def __init__(self, inputs, styles, masks, patch: int, erosion: int = 0, names=None, detail: float = 0.0):
        self.inputs, self.styles, self.patch = inputs, styles, patch
        names = names or [f"keyframe {i}" for i in range(len(inputs))]
        self.centres = []
        for tensor, mask, name in zip(inputs, masks, names):
            centres = valid_centres(mask, tuple(tensor.shape[1:]), patch, erosion)
            if centres.size == 0:
                raise UserError(f"the mask of {name} is empty after eroding it by {patch // 2 + erosion} px "
                                "(half a patch): paint a larger white region or use a smaller `patch_size`")
            self.centres.append(centres)
        self.cumulative = [None if detail <= 0 else centre_weights(style, centres, patch, detail).cumsum()
                           for style, centres in zip(styles, self.centres)]
        # A keyframe is picked in proportion to its trainable area, so every valid pixel is equally likely.
        counts = np.array([c.size for c in self.centres], dtype=np.float64)
        self.keyframe_weights = counts / counts.sum()

    def _corners(self, count: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
        chosen = rng.choice(len(self.centres), size=count, p=self.keyframe_weights)
        corners = []
        for k in chosen:
            cumulative = self.cumulative[k]
            if cumulative is None:
                flat = self.centres[k][rng.integers(self.centres[k].size)]
            else:
                pick = np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")
                flat = self.centres[k][min(pick, cumulative.size - 1)]
            y, x = divmod(int(flat), self.inputs[k].shape[2])
            corners.append((int(k), y - self.patch // 2, x - self.patch // 2))
        return corners

    def sample(self, count: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs (N, C, Wp, Wp), styles (N, 3, Wp, Wp)) cut at the same random places."""
        p = self.patch
        corners = self._corners(count, rng)
        inputs = torch.stack([self.inputs[k][:, y:y + p, x:x + p] for k, y, x in corners])
        styles = torch.stack([self.styles[k][:, y:y + p, x:x + p] for k, y, x in corners])
        return inputs, styles

    def sample_styles(self, count: int, rng: np.random.Generator) -> torch.Tensor:
        """Independent style patches: the discriminator's 'real' examples."""
        p = self.patch
        return torch.stack([self.styles[k][:, y:y + p, x:x + p] for k, y, x in self._corners(count, rng)])


def load_keyframes(video, keys: dict, masks: dict | None = None) -> list[Keyframe]:
    """Pair painted images with their frames of `video`, checking indices and sizes.

    Args:
        video: an opened `Video`.
        keys: {frame index: painted image path or RGB uint8 array}.
        masks: {frame index: mask image path or bool array}; each must belong to a keyframe.

    Returns:
        Keyframes sorted by index.
    """
    masks = masks or {}
    if not keys:
        raise UserError("at least one keyframe is needed: `keys` must map a frame index to its painted image")
    for index in masks:
        if index not in keys:
            raise UserError(f"`masks` has frame {index} but `keys` does not: a mask belongs to a keyframe")
    for index in keys:
        if not 0 <= index < len(video):
            raise UserError(f"keyframe {index} is out of range: {video.path} has frames 0..{len(video) - 1}")
    frames = video.read_many(keys)
    keyframes = []
    for index in sorted(keys):
        style = keys[index]
        style = read_image(style, f"keyframe {index}") if not isinstance(style, np.ndarray) else style
        mask = masks.get(index)
        if mask is not None and not isinstance(mask, np.ndarray):
            mask = read_mask(mask, f"mask {index}")
        for what, image in (("keyframe", style), ("mask", mask)):
            if image is not None and image.shape[:2] != (video.height, video.width):
                raise UserError(f"{what} {index} is {image.shape[1]}x{image.shape[0]} but the video is "
                                f"{video.width}x{video.height}: resize the {what} to the video's size")
        if style.ndim != 3 or style.shape[2] != 3 or style.dtype != np.uint8:
            raise UserError(f"keyframe {index} must be an RGB uint8 image (H, W, 3), got {style.dtype} {style.shape}")
        keyframes.append(Keyframe(index, frames[index], style, None if mask is None else mask.astype(bool)))
    return keyframes
