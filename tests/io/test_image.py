import cv2
import numpy as np
import pytest

from reanimate.core.errors import UserError
from reanimate.io.image import contact_sheet, fit_side, read_image, read_mask


def test_gray_rgba_and_16_bit_become_rgb(tmp_path):
    gray = np.full((5, 7), 200, np.uint8)
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    bgra = np.dstack([np.full((5, 7, 3), (10, 20, 30), np.uint8), np.full((5, 7), 255, np.uint8)])
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    cv2.imwrite(str(tmp_path / "d.png"), np.full((5, 7, 3), 65535, np.uint16))
    assert read_image(tmp_path / "g.png").shape == (5, 7, 3)
    assert tuple(read_image(tmp_path / "a.png")[0, 0]) == (30, 20, 10)  # BGR on disk, RGB in memory
    assert read_image(tmp_path / "d.png").max() == 255


def test_mask_threshold_and_bad_files(tmp_path):
    mask = np.zeros((4, 4), np.uint8)
    mask[:2] = 255
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    assert read_mask(tmp_path / "m.png").sum() == 8
    (tmp_path / "x.png").write_bytes(b"junk")
    with pytest.raises(UserError, match="not a readable image"):
        read_image(tmp_path / "x.png")


def test_fit_side_and_sheet():
    image = np.zeros((100, 400, 3), np.uint8)
    assert fit_side(image, 200).shape == (50, 200, 3)
    assert fit_side(image, 800) is image
    sheet = contact_sheet([[image[:10, :10], image[:20, :30]]], ["a"])
    assert sheet.shape[1] == 10 + 30 + 3 * 4
