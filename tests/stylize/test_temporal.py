"""Optical flow, the Gaussian-mixture guide, the temporal filter and the temporal metric, on
synthetic clips whose motion is known: the texture slides left by 2 px per frame."""

import numpy as np
import pytest
from conftest import moving_frames

from reanimate.core.errors import UserError
from reanimate.io.flow import compute_flow
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.metrics.temporal import warping_errors
from reanimate.stylize.guides import GaussGuide, Seeds, render_blobs, seed_keyframe
from reanimate.stylize.temporal import filtered_frames


def write_clip(folder, frames):
    with FrameWriter(folder, fps=25) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, f"{i:03d}.png")
    return open_video(folder)


@pytest.fixture
def sliding(tmp_path):
    return write_clip(tmp_path / "sliding", moving_frames(count=8, height=64, width=96))


def test_flow_sees_the_motion_and_is_cached(sliding, tmp_path):
    flow = compute_flow(sliding, tmp_path / "flow", show_progress=False)
    forward = flow.forward(3)[16:-16, 16:-16]
    assert np.allclose(np.median(forward.reshape(-1, 2), axis=0), [-2, 0], atol=0.3)
    assert np.allclose(np.median(flow.backward(3)[16:-16, 16:-16].reshape(-1, 2), axis=0), [2, 0], atol=0.3)
    stamp = (tmp_path / "flow" / "fwd-00000.npy").stat().st_mtime_ns
    compute_flow(sliding, tmp_path / "flow", show_progress=False)
    assert (tmp_path / "flow" / "fwd-00000.npy").stat().st_mtime_ns == stamp  # reused, not recomputed


def test_flow_cache_of_another_video_is_recomputed(sliding, tmp_path):
    compute_flow(sliding, tmp_path / "flow", show_progress=False)
    other = write_clip(tmp_path / "other", moving_frames(count=5, height=40, width=48, seed=1))
    flow = compute_flow(other, tmp_path / "flow", show_progress=False)
    assert flow.count == 5 and flow.forward(0).shape == (40, 48, 2)
    assert not (tmp_path / "flow" / "fwd-00006.npy").exists()


def test_guide_blob_moves_with_the_content(sliding, tmp_path):
    flow = compute_flow(sliding, tmp_path / "flow", show_progress=False)
    start = np.array([[60.0, 32.0]])
    seeds = Seeds(0, start / [95, 63], np.array([[1.0, 0.0, 0.0]]))
    guide = GaussGuide(flow, [seeds], sliding.size, sigma=5, radius=12, show_progress=False)
    for t in (0, 4, 7):
        position = guide.tracks[t][0][0]  # surviving points come first
        assert np.allclose(position, [60 - 2 * t, 32], atol=1.0), (t, position)
        image = guide.image(t)
        assert image[32, 60 - 2 * t, 0] > 0.9  # the red blob sits where the content went
    assert len(guide.tracks[7][0]) > 5  # gaps were reseeded so coverage stays dense


def test_several_keyframes_each_guide_their_neighbourhood(sliding, tmp_path):
    flow = compute_flow(sliding, tmp_path / "flow", show_progress=False)
    seeds = [seed_keyframe(k, None, sliding.size, 8, seed=0) for k in (0, 7)]
    guide = GaussGuide(flow, seeds, sliding.size, show_progress=False)
    assert np.array_equal(guide.tracks[7][1], seeds[1].colours) and np.array_equal(guide.tracks[0][1], seeds[0].colours)


def test_empty_mask_leaves_no_guide_points():
    with pytest.raises(UserError, match="keyframe 4"):
        seed_keyframe(4, np.zeros((20, 20), bool), (20, 20), 5, seed=0)


def test_blobs_peak_at_their_points():
    image = render_blobs(np.array([[5.0, 5.0], [15.0, 8.0]]), np.array([[1, 0, 0], [0, 0, 1.0]]), (20, 12), 3.0)
    assert image.shape == (12, 20, 3)
    assert image[5, 5, 0] == pytest.approx(1) and image[8, 15, 2] == pytest.approx(1) and image[0, 19].max() < 0.01


def test_temporal_filter_leaves_a_static_video_unchanged(tmp_path):
    still = moving_frames(count=1, height=40, width=48)[0]
    video = write_clip(tmp_path / "still", [still] * 6)
    flow = compute_flow(video, tmp_path / "flow", show_progress=False)
    for _, original, filtered in filtered_frames(video, flow, radius=3):
        assert np.array_equal(original, still) and np.abs(filtered.astype(int) - still).max() <= 1


def test_temporal_filter_removes_flicker_of_a_moving_video(sliding, tmp_path):
    rng = np.random.default_rng(0)
    noisy = [np.clip(f + rng.normal(0, 12, f.shape), 0, 255).astype(np.uint8) for f in moving_frames(8, 64, 96)]
    video = write_clip(tmp_path / "noisy", noisy)
    flow = compute_flow(video, tmp_path / "flow", show_progress=False)
    clean = moving_frames(8, 64, 96)
    [(_, _, filtered)] = list(filtered_frames(video, flow, [4], radius=3))
    inner = (slice(8, -8), slice(8, -8))
    before = np.abs(noisy[4][inner].astype(int) - clean[4][inner]).mean()
    after = np.abs(filtered[inner].astype(int) - clean[4][inner]).mean()
    assert after < 0.7 * before


def test_temporal_error_is_zero_for_a_still_output_and_grows_when_shuffled(sliding, tmp_path):
    flow = compute_flow(sliding, tmp_path / "flow", show_progress=False)
    ordered = [e for _, e, _ in warping_errors(sliding, flow)]
    frames = moving_frames(count=8, height=64, width=96)
    shuffled = write_clip(tmp_path / "shuffled", [frames[i] for i in (0, 5, 2, 7, 1, 6, 3, 4)])
    assert np.mean([e for _, e, _ in warping_errors(shuffled, flow)]) > 5 * np.mean(ordered)
    still = write_clip(tmp_path / "still", [frames[0]] * 8)
    still_flow = compute_flow(still, tmp_path / "still-flow", show_progress=False)
    assert max(e for _, e, _ in warping_errors(still, still_flow)) == 0


def test_the_flicker_ratio_leaves_out_scene_cuts(tmp_path):
    from reanimate.metrics.video import score_video

    first, second = moving_frames(6, 64, 80, seed=0), moving_frames(6, 64, 80, seed=1)  # two unrelated shots
    footage = write_clip(tmp_path / "footage", first + second)
    steady = score_video(footage, footage, work_dir=tmp_path / "w", show_progress=False)
    assert steady["scene_cuts"] == [5] and len(steady["temporal_errors"]) == 11
    assert steady["flicker_ratio"] == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    flickering = write_clip(tmp_path / "flicker", [np.clip(f.astype(int) + rng.integers(-40, 40), 0, 255).astype(np.uint8)
                                                   for f in first + second])
    noisy = score_video(flickering, footage, work_dir=tmp_path / "w", show_progress=False)
    # The cut's pair would dominate both means (its footage error is the largest by far) and hide the flicker.
    assert noisy["scene_cuts"] == [5] and noisy["flicker_ratio"] > 3
