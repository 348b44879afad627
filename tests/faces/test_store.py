import json

import numpy as np
import pytest

from reanimate.core.errors import UserError
from reanimate.faces.store import ClipFile, FaceDataset, encode_jpeg, write_clip, write_dataset_header


def test_clip_file_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    images = [np.full((16, 16, 3), 40 * i, np.uint8) for i in range(4)]
    points = rng.uniform(0, 16, (4, 68, 2)).astype(np.float32)
    write_clip(tmp_path / "a" / "clip.safetensors", [encode_jpeg(im) for im in images], points, np.array([0, 2, 4, 6]),
               {"identity": "x"})
    clip = ClipFile(tmp_path / "a" / "clip.safetensors")
    assert len(clip) == 4 and clip.metadata["identity"] == "x" and list(clip.frame_index) == [0, 2, 4, 6]
    assert np.array_equal(clip.landmarks, points)
    decoded = clip.frames([3, 1])
    assert np.abs(decoded[0].astype(int) - 120).max() <= 2 and np.abs(decoded[1].astype(int) - 40).max() <= 2
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["clip.safetensors"]  # no temporary left behind


def test_damaged_clip_and_missing_or_old_datasets_are_explained(tmp_path, dataset):
    (tmp_path / "bad.safetensors").write_bytes(b"not a clip")
    with pytest.raises(UserError, match="cannot be read"):
        ClipFile(tmp_path / "bad.safetensors")
    with pytest.raises(UserError, match="does not exist"):
        FaceDataset(tmp_path / "nowhere")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "dataset.json").write_text(json.dumps({"format": "reanimate-faces", "version": 0}))
    with pytest.raises(UserError, match="version 0"):
        FaceDataset(tmp_path / "old")
    write_dataset_header(tmp_path / "unfinished", "video", 64, {"margin": 0.4})
    with pytest.raises(UserError, match="run the same"):
        FaceDataset(tmp_path / "unfinished")
    with pytest.raises(UserError, match="margin 0.4 there, 0.5 now"):
        write_dataset_header(tmp_path / "unfinished", "video", 64, {"margin": 0.5})
    (tmp_path / "unfinished" / "index.json").write_text("{\"clips\": [{\"bad\": 1}]}")
    with pytest.raises(UserError, match="damaged"):
        FaceDataset(tmp_path / "unfinished")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        write_dataset_header(tmp_path / "busy", "video", 64, {})
