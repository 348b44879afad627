"""Painterly OpenCV filters that stand in for an artist's painting in demos, tests and benchmarks.

They are deterministic, so a filtered held-out frame is the ground truth of what a perfect
stylization of that frame would be.
"""

import cv2
import numpy as np


def watercolor(image: np.ndarray) -> np.ndarray:
    """Edge-preserving 'stylization' with a warm, posterised palette and dark ink outlines."""
    smooth = cv2.stylization(image, sigma_s=40, sigma_r=0.35)
    hsv = cv2.cvtColor(smooth, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + 12) % 180  # hue shift: the style changes colours, not only texture
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.5 + 20, 0, 255)
    hsv[..., 2] = np.round(hsv[..., 2] / 32) * 32 + 16  # posterise brightness into 8 bands
    out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    edges = cv2.adaptiveThreshold(cv2.medianBlur(gray, 5), 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 4)
    return (out.astype(np.float32) * (0.35 + 0.65 * edges[..., None] / 255.0)).astype(np.uint8)


def pencil(image: np.ndarray) -> np.ndarray:
    """OpenCV's colour pencil sketch."""
    _, colour = cv2.pencilSketch(image, sigma_s=50, sigma_r=0.07, shade_factor=0.06)
    return colour


FILTERS = {"watercolor": watercolor, "pencil": pencil}
