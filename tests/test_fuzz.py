"""Damaged files through every reader: truncated, bit-flipped and random bytes must end in success or
in one short `UserError` naming the file, never a traceback.

A seeded generator makes the cases, so a failure repeats. CI runs a few per reader; the on-demand
sweep runs many: `REANIMATE_FUZZ_CASES=500 .venv/bin/python -m pytest tests/test_fuzz.py`.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from reanimate.core.errors import UserError
from reanimate.io.video import FrameWriter

CASES = int(os.environ.get("REANIMATE_FUZZ_CASES", "12"))
MAX_MESSAGE = 600  # characters: one line a person reads, not a dump


def damaged(data: bytes, rng: np.random.Generator) -> bytes:
    """One damaged version of `data`: cut short, bits flipped, a block overwritten, or random bytes."""
    kind = rng.integers(4)
    if kind == 0 and data:
        return data[:int(rng.integers(0, len(data)))]
    if kind == 1 and data:
        out = bytearray(data)
        for i in rng.integers(0, len(out), size=int(rng.integers(1, 9))):
            out[i] ^= 1 << int(rng.integers(8))
        return bytes(out)
    if kind == 2 and data:
        out = bytearray(data)
        start = int(rng.integers(0, len(out)))
        out[start:start + 64] = rng.bytes(64)[:len(out[start:start + 64])]
        return bytes(out)
    return rng.bytes(int(rng.integers(0, 4096)))


def check(read, path: Path, case: str) -> None:
    """`read()` either works or raises one short UserError that names the file."""
    try:
        read()
    except UserError as exc:
        message = str(exc)
        assert len(message) < MAX_MESSAGE and "\n" not in message.strip(), f"{case}: long message: {message[:300]}"
        assert path.name in message or path.parent.name in message, f"{case}: the file is not named: {message}"
    except Exception as exc:  # noqa: BLE001  (the point: nothing else may escape)
        pytest.fail(f"{case}: {type(exc).__name__}: {str(exc)[:300]}")


def sweep(tmp_path: Path, original: Path, read, seed: int) -> None:
    """Damage `original` CASES times (in place, restored after each), calling `read` each time."""
    data = original.read_bytes()
    rng = np.random.default_rng(seed)
    try:
        for case in range(CASES):
            original.write_bytes(damaged(data, rng))
            check(read, original, f"{original.name} case {case} (seed {seed})")
    finally:
        original.write_bytes(data)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from conftest import moving_frames

    path = tmp_path_factory.mktemp("fuzz") / "clip.mp4"
    with FrameWriter(path, fps=25) as writer:
        for frame in moving_frames(count=4):
            writer.write(frame)
    return path


def test_videos(tmp_path, clip):
    from reanimate.io.video import open_video

    target = tmp_path / "clip.mp4"
    shutil.copy(clip, target)
    sweep(tmp_path, target, lambda: list(open_video(target).frames()), seed=1)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_images_and_masks(tmp_path, frames, suffix):
    import cv2

    from reanimate.io.image import read_image, read_mask

    target = tmp_path / f"painted{suffix}"
    cv2.imwrite(str(target), frames[0])
    sweep(tmp_path, target, lambda: (read_image(target, "keyframe"), read_mask(target)), seed=2)


def test_model_folders(tmp_path, tiny_config):
    from reanimate.stylize.model import Generator
    from reanimate.stylize.pipeline import Stylizer

    config = tiny_config
    generator = Generator(config.in_channels, config.filters, config.resblocks)
    model_config = {"kind": "reanimate.stylize", "format": 1, "model": {"in_channels": config.in_channels,
                    "filters": list(config.filters), "resblocks": config.resblocks}}
    Stylizer(generator, model_config, "cpu").save_pretrained(tmp_path / "model")
    for name, seed in (("config.json", 3), ("model.safetensors", 4)):
        sweep(tmp_path, tmp_path / "model" / name,
              lambda: Stylizer.from_pretrained(tmp_path / "model", "cpu")([np.zeros((8, 8, 3), np.uint8)]), seed)


def test_training_states(tmp_path):
    import torch

    from reanimate.core.checkpoint import load_training_state, save_training_state

    path = save_training_state(tmp_path, 3, {"step": 3, "weights": torch.zeros(16, 16)})
    sweep(tmp_path, path, lambda: load_training_state(path), seed=5)


def test_presets(tmp_path):
    from reanimate.stylize.config import PRESET_DIR, load_config

    target = tmp_path / "mine.yaml"
    shutil.copy(PRESET_DIR / "fast.yaml", target)
    sweep(tmp_path, target, lambda: load_config(str(target)), seed=6)


def test_face_datasets(tmp_path):
    from reanimate.faces.episodes import EpisodeDataset
    from reanimate.faces.store import FaceDataset
    from reanimate.faces.synth import synth_dataset

    root = tmp_path / "faces"
    synth_dataset(root, identities=2, frames=5, size=32, show_progress=False)

    def read():
        data = FaceDataset(root)
        for index in range(len(data)):
            clip = data.clip(index)
            clip.frames(list(range(len(clip))))
        return EpisodeDataset(root, k=2)[0]

    clip_file = next((root / "clips").rglob("*.safetensors"))
    for target, seed in ((root / "dataset.json", 7), (root / "index.json", 8), (clip_file, 9)):
        sweep(tmp_path, target, read, seed)


def test_flow_caches(tmp_path, clip):
    from reanimate.io.flow import compute_flow
    from reanimate.io.video import open_video

    video = open_video(clip)
    cache = tmp_path / "flow"
    compute_flow(video, cache, show_progress=False)
    for target, seed in ((cache / "flow.json", 10), (sorted(cache.glob("fwd-*.npy"))[0], 11)):
        sweep(tmp_path, target, lambda: compute_flow(video, cache, show_progress=False).forward(0), seed)
