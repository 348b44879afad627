"""Damaged files through every reader: truncated, bit-flipped and random bytes must end in success or
in one short `UserError` naming the file, never a traceback.

Then the same damage through the commands that take these files (`render`, `stylize`, `talk
meta-train`), run in this process: success, or one `error: ...` line naming the file.

A seeded generator makes the cases, so a failure repeats. CI runs 12 per reader and 3 per command;
the on-demand sweep runs many: `REANIMATE_FUZZ_CASES=1000 .venv/bin/python -m pytest tests/test_fuzz.py`
(a tenth of that per command).
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from reanimate.core.errors import UserError
from reanimate.io.writer import FrameWriter

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


# -- through the commands that take these files ------------------------------------------------------

CLI_CASES = max(3, CASES // 10)


def run_cli(monkeypatch, capsys, args: list) -> tuple[int, str]:
    """`reanimate ARGS` in this process (no interpreter start per case): (exit status, stderr)."""
    import sys

    from reanimate.cli import run

    monkeypatch.setattr(sys, "argv", ["reanimate", *map(str, args)])
    try:
        run()
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    return status, capsys.readouterr().err


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory, clip):
    """A clip, a painted keyframe, a model folder, a preset and a face dataset, all whole."""
    import cv2
    from conftest import moving_frames

    from reanimate.faces.synth import synth_dataset
    from reanimate.stylize.config import PRESET_DIR
    from tests.cli.test_stylize import TINY, reanimate

    folder = tmp_path_factory.mktemp("cli-fuzz")
    shutil.copy(clip, folder / "clip.mp4")
    cv2.imwrite(str(folder / "painted.png"), 255 - moving_frames(count=1)[0])
    made = reanimate("stylize", folder / "clip.mp4", "--key", f"0={folder / 'painted.png'}", "--out",
                     folder / "made.mp4", "--iterations", "1", "--save-model", folder / "model", *TINY)
    assert made.returncode == 0, made.stderr
    shutil.copy(PRESET_DIR / "fast.yaml", folder / "preset.yaml")
    synth_dataset(folder / "faces", identities=2, frames=5, size=32, show_progress=False)
    return folder


COMMANDS = {  # what is damaged: the command that reads it ({f} = the folder of whole files, {out} = scratch)
    "clip.mp4": ["render", "--model", "{f}/model", "{f}/clip.mp4", "--out", "{out}/x.mp4", "--device", "cpu"],
    "model/config.json": ["render", "--model", "{f}/model", "{f}/clip.mp4", "--out", "{out}/x.mp4"],
    "model/model.safetensors": ["render", "--model", "{f}/model", "{f}/clip.mp4", "--out", "{out}/x.mp4"],
    "painted.png": ["stylize", "{f}/clip.mp4", "--key", "0={f}/painted.png", "--out", "{out}/x.mp4",
                    "--iterations", "1", "--preset", "fast", "--patch-size", "16", "--batch-size", "4",
                    "--perceptual", "none"],
    "preset.yaml": ["stylize", "{f}/clip.mp4", "--key", "0={f}/painted.png", "--out", "{out}/x.mp4",
                    "--iterations", "1", "--preset", "{f}/preset.yaml", "--perceptual", "none"],
    "faces/dataset.json": ["talk", "meta-train", "{f}/faces", "--run", "{out}/run", "--preset", "tiny",
                           "--steps", "1", "--device", "cpu", "--workers", "0"],
    "faces/index.json": ["talk", "meta-train", "{f}/faces", "--run", "{out}/run", "--preset", "tiny",
                         "--steps", "1", "--device", "cpu", "--workers", "0"],
}


@pytest.mark.parametrize("target", list(COMMANDS))
def test_damaged_files_through_the_cli(target, cli_files, tmp_path, monkeypatch, capsys):
    """Each case ends in success or one `error: ...` line naming the file, with a non-zero status."""
    path = cli_files / target
    data, rng = path.read_bytes(), np.random.default_rng(100 + list(COMMANDS).index(target))
    outcomes = {0: 0, 1: 0, 2: 0}
    try:
        for case in range(CLI_CASES):
            out = tmp_path / f"case-{case}"
            path.write_bytes(damaged(data, rng))
            args = [a.format(f=cli_files, out=out) for a in COMMANDS[target]] + ["-q"]
            try:
                status, err = run_cli(monkeypatch, capsys, args)
            except Exception as exc:  # noqa: BLE001  (the point: nothing may escape the command)
                pytest.fail(f"{target} case {case}: {type(exc).__name__}: {str(exc)[:300]}")
            lines = [line for line in err.strip().splitlines() if line.strip()]
            outcomes[status] = outcomes.get(status, 0) + 1
            if status == 0:
                continue
            assert status in (1, 2) and len(lines) == 1 and lines[0].startswith("error: "), f"{target} {case}: {err}"
            assert len(lines[0]) < MAX_MESSAGE and (path.name in lines[0] or path.parent.name in lines[0]), lines[0]
    finally:
        path.write_bytes(data)
    print(f"{target}: {CLI_CASES} cases, exit status: count {outcomes}")
