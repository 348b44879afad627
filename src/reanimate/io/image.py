"""Still images: read any common format as RGB uint8, write PNG atomically."""

import os
from pathlib import Path

import cv2
import numpy as np

from reanimate.core.errors import UserError
from reanimate.core.files import atomic_path

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Any decoded image (gray, gray+alpha, BGR, BGRA; 8 or 16 bit) as RGB uint8 (H, W, 3)."""
    if image.dtype == np.uint16:
        image = (image / 257.0 + 0.5).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2RGB)
    if channels == 2:  # gray + alpha: composite on black like the RGBA case
        gray = (image[:, :, 0].astype(np.float32) * image[:, :, 1] / 255.0).astype(np.uint8)
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    if channels == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = (image[:, :, :3].astype(np.float32) * alpha + 0.5).astype(np.uint8)
    return cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2RGB)


def read_image(path: str | os.PathLike, what: str = "image") -> np.ndarray:
    """Read an image file as RGB uint8 (H, W, 3); gray and RGBA are converted."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} {path} does not exist")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise UserError(f"{what} {path} is not a readable image (supported: {', '.join(IMAGE_EXTENSIONS)})")
    return to_rgb(image)


def read_mask(path: str | os.PathLike, what: str = "mask") -> np.ndarray:
    """Read a mask as bool (H, W): white (>= half intensity) means 'on'."""
    rgb = read_image(path, what)
    return rgb.max(axis=2) >= 128


def encode_png(image: np.ndarray) -> bytes:
    return encode_image(image, ".png")


def encode_image(image: np.ndarray, suffix: str = ".png") -> bytes:
    """An RGB or RGBA image, 8 or 16 bits a channel (uint8 / uint16), as the bytes of a PNG or TIFF
    file (by `suffix`)."""
    order = cv2.COLOR_RGBA2BGRA if image.ndim == 3 and image.shape[2] == 4 else cv2.COLOR_RGB2BGR
    ok, buffer = cv2.imencode(suffix.lower(), cv2.cvtColor(image, order))
    if not ok:
        raise OSError(f"{suffix} encoding failed")
    return buffer.tobytes()


def write_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write an RGB uint8 image as PNG, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(encode_png(image))


def fit_side(image: np.ndarray, side: int) -> np.ndarray:
    """Downscale so the longer side is at most `side` (never upscale)."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return image
    return cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


def contact_sheet(rows: list[list[np.ndarray]], labels: list[str] | None = None, gap: int = 4) -> np.ndarray:
    """Images laid out in rows on a dark background, each row under an optional caption."""
    label_height = 18 if labels else 0
    cell_h = max(img.shape[0] for row in rows for img in row)
    width = max(sum(img.shape[1] for img in row) + gap * (len(row) + 1) for row in rows)
    height = len(rows) * (cell_h + label_height + gap) + gap
    sheet = np.full((height, width, 3), 24, np.uint8)
    y = gap
    for r, row in enumerate(rows):
        if labels:
            cv2.putText(sheet, labels[r], (gap, y + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (230, 230, 230), 1, cv2.LINE_AA)
            y += label_height
        x = gap
        for img in row:
            sheet[y:y + img.shape[0], x:x + img.shape[1]] = img
            x += img.shape[1] + gap
        y += cell_h + gap
    return sheet
