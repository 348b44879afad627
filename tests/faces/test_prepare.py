import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from reanimate.core.errors import UserError
from reanimate.faces.episodes import EpisodeDataset
from reanimate.faces.prepare import PrepareSettings, identity_of, prepare_dataset
from reanimate.faces.store import FaceDataset
from reanimate.io.samples import sample_clip
from reanimate.io.writer import FrameWriter


@pytest.fixture(scope="module")
def source(tmp_path_factory, synthetic_video):
    """VoxCeleb2's layout: id/video/clip.mp4, two people, mixed frame sizes, plus bad files."""
    write_synthetic_video = synthetic_video
    root = tmp_path_factory.mktemp("src")
    write_synthetic_video(root / "id001" / "vidA" / "00001.mp4", frames=10, size=160, seed=1)
    write_synthetic_video(root / "id001" / "vidB" / "00001.mp4", frames=8, size=224, seed=1)
    write_synthetic_video(root / "id002" / "vidC" / "00001.mp4", frames=10, size=192, seed=2)
    with FrameWriter(root / "id002" / "vidD" / "empty-room.mp4", fps=25) as writer:  # no face at all
        for i in range(6):
            writer.write(np.full((96, 128, 3), 30 * i, np.uint8))
    (root / "id003" / "vidE").mkdir(parents=True)
    (root / "id003" / "vidE" / "00001.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    return root


SETTINGS = PrepareSettings(size=64)


def test_identity_follows_the_layout():
    assert identity_of(Path("id001/vid/00001.mp4"), "auto", nested=True) == "id001"
    assert identity_of(Path("talk.mp4"), "auto", nested=False) == "talk"
    assert identity_of(Path("id001/vid/00001.mp4"), "video", nested=True) == "id001/vid/00001"


def test_prepare_records_everything_and_resumes(tmp_path, source):
    out = tmp_path / "faces"
    summary = prepare_dataset(source, out, SETTINGS, workers=1, show_progress=False)
    assert summary["videos"] == 5 and summary["clips"] == 3 and summary["identities"] == 2
    assert summary["frames"] == 10 + 8 + 10 + 6 and summary["frames_with_face"] >= 24
    reasons = {f["source"]: f["reason"] for f in summary["failed"]}
    assert set(reasons) == {"id002/vidD/empty-room.mp4", "id003/vidE/00001.mp4"}
    assert "no face" in reasons["id002/vidD/empty-room.mp4"] and "not a readable video" in reasons["id003/vidE/00001.mp4"]
    data = FaceDataset(out)
    assert data.identities == ["id001", "id002"]
    clip = data.clip(0)
    assert clip.frames([0])[0].shape == (64, 64, 3)
    assert (clip.landmarks > -8).all() and (clip.landmarks < 72).all()  # faces lie inside their crops

    # A run killed in the middle of a video: its record and clip are missing, a temp file is left.
    (out / "records" / "id001" / "vidB" / "00001.mp4.json").unlink()
    (out / "clips" / "id001" / "vidB" / "00001.mp4.safetensors").unlink()
    (out / "clips" / "id001" / "vidB" / ".00001.mp4.tmp-x.safetensors").write_bytes(b"half")
    stamp = (out / "clips" / "id001" / "vidA" / "00001.mp4.safetensors").stat().st_mtime_ns
    again = prepare_dataset(source, out, SETTINGS, workers=1, show_progress=False)
    assert again == summary
    assert (out / "clips" / "id001" / "vidA" / "00001.mp4.safetensors").stat().st_mtime_ns == stamp
    assert (out / "clips" / "id001" / "vidB" / "00001.mp4.safetensors").is_file()
    episode = EpisodeDataset(out, k=4, size=32)[0]
    assert episode["frames"].shape == (4, 3, 32, 32)


def test_settings_are_checked(tmp_path, source):
    with pytest.raises(UserError, match="too small"):
        PrepareSettings(size=8)
    with pytest.raises(UserError, match="no videos"):
        prepare_dataset(tmp_path, tmp_path / "out", SETTINGS, show_progress=False)
    with pytest.raises(UserError, match="does not exist"):
        prepare_dataset(tmp_path / "missing", tmp_path / "out", SETTINGS, show_progress=False)


def test_cli_in_parallel_prints_json(tmp_path, source):
    single = tmp_path / "one"
    shutil.copytree(source / "id001", single / "id001")
    run = [sys.executable, "-c", "from reanimate.cli import run; run()", "faces", "prepare", str(single), "--out", str(tmp_path / "faces"),
           "--size", "48", "--workers", "2", "--json", "-q"]
    result = subprocess.run(run, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["videos"] == 2 and summary["clips"] == 2 and summary["identities"] == 1 and summary["failed"] == []
    assert summary["frames_with_face"] >= 14


@pytest.mark.slow
def test_real_talking_man_to_episodes(tmp_path):
    clip = tmp_path / "src" / "carphone.mp4"
    clip.parent.mkdir()
    shutil.copy(sample_clip("carphone_pristine"), clip)
    summary = prepare_dataset(clip.parent, tmp_path / "faces", PrepareSettings(size=128), workers=1,
                              show_progress=False)
    assert summary["frames"] == 120 and summary["frames_with_face"] >= 110 and summary["identities"] == 1
    data = FaceDataset(tmp_path / "faces")
    points = data.clip(0).landmarks
    # Crops are centred on the face: the landmarks' middle stays near the crop's middle.
    assert np.abs(points.mean(axis=(0, 1)) - [64, 72]).max() < 12
    item = EpisodeDataset(data, k=8)[0]
    assert item["frames"].shape == (8, 3, 128, 128) and item["target_landmarks"].abs().sum() > 0


def test_a_killed_preparation_resumes(tmp_path, synthetic_video):
    src = tmp_path / "src"
    for i in range(4):
        synthetic_video(src / f"id{i}" / "v" / "00001.mp4", frames=30, size=128, seed=i)
    out = tmp_path / "faces"
    run = [sys.executable, "-c", "from reanimate.cli import run; run()", "faces", "prepare", str(src), "--out",
           str(out), "--size", "48", "--workers", "1", "--json", "-q"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 120
    while not list((out / "records").rglob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.kill()  # SIGKILL: no clean-up of any kind
    process.wait()
    done = len(list((out / "records").rglob("*.json")))
    assert 1 <= done < 4, "the kill should land in the middle of the preparation"
    result = subprocess.run(run, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["clips"] == 4 and summary["failed"] == []
    data = FaceDataset(out)
    assert all(len(data.clip(i)) == data.clips[i].frames >= 20 for i in range(4))


def test_ctrl_c_stops_every_worker_and_resumes(tmp_path, synthetic_video):
    src = tmp_path / "src"
    for i in range(6):
        synthetic_video(src / f"v{i}.mp4", frames=30, size=128, seed=i)
    out = tmp_path / "faces"
    run = [sys.executable, "-c", "from reanimate.cli import run; run()", "faces", "prepare", str(src), "--out",
           str(out), "--size", "48", "--workers", "2", "--json", "-q"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not list((out / "records").rglob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    result = subprocess.run(run, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["clips"] == 6
    assert not list(out.rglob(".*.tmp-*"))  # leftovers of the interrupted run are gone
