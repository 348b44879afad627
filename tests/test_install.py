"""What scripts/setup.sh promises about the environment."""

import importlib.metadata

import pytest


def test_only_headless_opencv_is_installed():
    # The desktop build needs libGL, which servers often lack; both builds share the cv2 folder.
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("opencv-python")
    import cv2

    assert hasattr(cv2, "DISOpticalFlow_create")


def test_bundled_assets_are_found_without_downloads():
    from reanimate.io.samples import SAMPLE_CLIPS, sample_clip
    from reanimate.nn.losses import inception_weights_path

    assert inception_weights_path().stat().st_size > 80_000_000
    assert all(sample_clip(name).is_file() for name in SAMPLE_CLIPS)
