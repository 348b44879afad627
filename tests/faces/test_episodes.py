import numpy as np
import pytest
import torch

from reanimate.core.errors import UserError
from reanimate.faces.episodes import EpisodeDataset
from reanimate.faces.raster import draw_landmarks


def test_episode_shapes_and_ranges(dataset):
    episodes = EpisodeDataset(dataset, k=4)
    item = episodes[1]
    assert item["frames"].shape == (4, 3, 64, 64) and item["landmarks"].shape == (4, 3, 64, 64)
    assert item["target"].shape == (3, 64, 64) and item["target_landmarks"].shape == (3, 64, 64)
    assert item["video"] == 1 and item["identity"] == 1
    for key in ("frames", "landmarks", "target", "target_landmarks"):
        assert item[key].min() >= -1 and item[key].max() <= 1
    batch = next(iter(torch.utils.data.DataLoader(episodes, batch_size=2)))
    assert batch["frames"].shape == (2, 4, 3, 64, 64)


def test_episodes_are_reproducible_and_change_with_the_epoch(dataset):
    a, b = EpisodeDataset(dataset, k=4, seed=1), EpisodeDataset(dataset, k=4, seed=1)
    assert torch.equal(a[0]["frames"], b[0]["frames"])
    b.set_epoch(1)
    assert not torch.equal(a[0]["frames"], b[0]["frames"])


def test_episode_frames_are_distinct_and_match_their_landmarks(dataset):
    episodes = EpisodeDataset(dataset, k=11)  # K + 1 = all 12 frames of the clip
    item = episodes[0]
    frames = torch.cat([item["frames"], item["target"][None]])
    assert len({f.sum().item() for f in frames}) == 12
    clip = dataset.clip(0)
    position = int(np.argmin([np.abs(f.numpy().transpose(1, 2, 0) - (c / 127.5 - 1)).mean()
                              for c in clip.frames(range(12)) for f in [item["target"]]]))
    expected = draw_landmarks(clip.landmarks[position], (64, 64)) / 127.5 - 1
    assert np.allclose(item["target_landmarks"].numpy().transpose(1, 2, 0), expected, atol=1e-5)


def test_resized_episodes(dataset):
    item = EpisodeDataset(dataset, k=2, size=32)[0]
    assert item["frames"].shape == (2, 3, 32, 32) and item["target_landmarks"].shape == (3, 32, 32)


def test_clips_too_short_for_k_are_named(dataset):
    with pytest.raises(UserError, match=r"synth-0000/video-00 \(12\)"):
        EpisodeDataset(dataset, k=12)
    with pytest.raises(UserError, match="no clip"):
        EpisodeDataset(dataset, k=12, skip_short=True)


def test_negative_indices_and_video_numbers(dataset):
    episodes = EpisodeDataset(dataset, k=4)
    assert torch.equal(episodes[-1]["target"], episodes[2]["target"]) and episodes.num_videos == 3
    with pytest.raises(IndexError):
        episodes[3]
