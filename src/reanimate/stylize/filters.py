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


def cartoon(image: np.ndarray) -> np.ndarray:
    """Edge-and-flat (cel / ink): flat posterised colour regions bounded by dark outlines about 3 px wide."""
    smooth = image
    for _ in range(3):
        smooth = cv2.bilateralFilter(smooth, 9, 30, 5)
    flat = cv2.medianBlur((smooth // 64) * 64 + 32, 5)  # 4 levels a channel, speckles removed
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 1.4), 50, 110)
    edges = cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    flat[edges > 0] = (24, 20, 32)
    return flat


def _along(image: np.ndarray, degrees: float, length: int) -> np.ndarray:
    """`image` averaged along a line at `degrees`: detail drawn out into strokes of that direction."""
    kernel = np.zeros((length, length), np.float32)
    centre = length // 2
    dx, dy = np.cos(np.radians(degrees)), -np.sin(np.radians(degrees))
    for t in np.linspace(-centre, centre, 4 * length):
        kernel[round(centre + t * dy), round(centre + t * dx)] = 1
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def hatching(image: np.ndarray) -> np.ndarray:
    """Pen hatching on paper: strokes at 45 degrees where the tone is mid-dark, crossed at 135 in the
    shadows, and outlines. The strokes grow out of the image's own fine detail, so they move with
    what they draw (a fixed screen pattern would not)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    tone = cv2.GaussianBlur(gray, (0, 0), 2)
    detail = gray - cv2.GaussianBlur(gray, (0, 0), 2.5)
    ink = np.zeros_like(gray)
    for degrees, darkness in ((45, 0.35), (135, 0.6)):
        streak = _along(detail, degrees, 13)
        streak /= np.abs(streak).mean() + 1e-3
        ink = np.maximum(ink, np.clip((1 - tone - darkness) * 3 + 0.6 * streak - 0.2, 0, 1))
    edges = cv2.Canny(cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (5, 5), 1.4), 60, 130)
    ink = np.maximum(ink, edges.astype(np.float32) / 255)
    paper, pen = np.array([246, 240, 226], np.float32), np.array([38, 36, 58], np.float32)
    return (paper + (pen - paper) * ink[..., None]).clip(0, 255).astype(np.uint8)


FILTERS = {"watercolor": watercolor, "pencil": pencil, "cartoon": cartoon, "hatching": hatching}
