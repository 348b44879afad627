"""The temporal consistency pass: it steadies boiling texture, keeps a steady render, resets at cuts."""

import cv2
import numpy as np
import pytest

from reanimate.core.errors import UserError
from reanimate.io.flow import compute_flow
from reanimate.io.video import open_video
from reanimate.io.writer import FrameWriter
from reanimate.stylize.consistency import MAX_STRENGTH, TemporalPass, parse_strength
from tests.conftest import moving_frames


@pytest.fixture
def moving(tmp_path):
    """A pattern moving 2 px per frame (12 frames), then a cut to another pattern (4 frames)."""
    frames = moving_frames(12, 48, 64, seed=1) + moving_frames(4, 48, 64, seed=7)
    with FrameWriter(tmp_path / "clip", fps=25) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, f"{i:03d}.png")
    video = open_video(tmp_path / "clip")
    return video, compute_flow(video, tmp_path / "flow", show_progress=False), frames


def _boiling(frames, seed=0):
    """A 'render' whose grain is drawn afresh each frame, as a textured style's is."""
    rng = np.random.default_rng(seed)
    return [np.clip(255 - f.astype(np.float32) + rng.normal(0, 25, f.shape), 0, 255).astype(np.uint8) for f in frames]


def _temporal_error(frames, flow) -> float:
    """Mean squared change between consecutive frames after warping along the flow (first shot only)."""
    errors = []
    for t in range(1, 12):
        back = flow.backward(t - 1)
        grid = np.dstack(np.meshgrid(np.arange(64, dtype=np.float32), np.arange(48, dtype=np.float32)))
        warped = cv2.remap(frames[t - 1].astype(np.float32), grid + back, None, cv2.INTER_LINEAR)
        errors.append(np.mean((frames[t].astype(np.float32) - warped)[8:-8, 8:-8] ** 2))
    return float(np.mean(errors))


def test_the_pass_steadies_boiling_texture_and_starts_afresh_at_a_cut(moving):
    video, flow, frames = moving
    raw = _boiling(frames)
    steady = TemporalPass(flow, 0.6)
    out = [steady(i, f, r) for i, (f, r) in enumerate(zip(frames, raw))]
    assert _temporal_error(out, flow) < 0.5 * _temporal_error(raw, flow)
    clean = [255 - f for f in frames]  # what the style would be without the grain
    assert np.mean(np.abs(out[10].astype(int) - clean[10])) < np.mean(np.abs(raw[10].astype(int) - clean[10]))
    assert steady.report.cuts == 1 and np.array_equal(out[12], raw[12]), "the first frame after a cut is the render"
    assert steady.report.out_ratio < steady.report.raw_ratio


def test_auto_blends_a_boiling_render_and_leaves_a_steady_one_nearly_alone(moving):
    video, flow, frames = moving
    boiling = TemporalPass(flow, "auto")
    for i, (f, r) in enumerate(zip(frames, _boiling(frames))):
        boiling(i, f, r)
    assert boiling.report.raw_ratio > 1.5 and boiling.report.strength > 0.3
    steady = TemporalPass(flow, "auto")
    clean = [255 - f for f in frames]
    out = [steady(i, f, r) for i, (f, r) in enumerate(zip(frames, clean))]
    assert steady.report.strength < boiling.report.strength
    assert max(np.abs(o.astype(int) - c).mean() for o, c in zip(out, clean)) < 1.0


def test_off_passes_frames_through_and_a_gap_restarts(moving):
    video, flow, frames = moving
    raw = _boiling(frames)
    off = TemporalPass(flow, "off")
    assert all(np.array_equal(off(i, f, r), r) for i, (f, r) in enumerate(zip(frames, raw)))
    gap = TemporalPass(flow, 0.6)
    gap(2, frames[2], raw[2])
    assert np.array_equal(gap(5, frames[5], raw[5]), raw[5]), "frame 5 does not follow frame 2"


def test_strength_is_checked():
    assert parse_strength("auto") == "auto" and parse_strength("off") == 0.0 and parse_strength("0.4") == 0.4
    with pytest.raises(UserError, match="auto, off or a strength"):
        parse_strength("lots")
    with pytest.raises(UserError, match=f"from 0 to {MAX_STRENGTH}"):
        parse_strength("1.5")
