"""The studio's session logic, without a browser: tiny clips and a tiny network."""

import re
import time
import zipfile

import cv2
import numpy as np
import pytest

from reanimate.app.frames import fit_painting, working_size
from reanimate.app.studio import Studio
from reanimate.core.checkpoint import latest_training_state, load_training_state
from reanimate.core.errors import UserError
from reanimate.io.video import open_video
from reanimate.stylize.pipeline import Stylizer
from reanimate.stylize.train import fingerprint


def _wait(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _painted(frame: np.ndarray) -> np.ndarray:
    return 255 - frame  # an easy style: the negative


@pytest.fixture
def studio(tmp_path, clip_mp4):
    studio = Studio(tmp_path / "session", device="cpu")
    studio.load_video(clip_mp4)
    yield studio
    studio.close()


def test_loading_shrinks_to_the_working_size_and_refuses_bad_files(tmp_path, clip_mp4):
    studio = Studio(tmp_path / "s")
    summary = studio.load_video(clip_mp4, max_side=25)
    assert "6 frames of 25x19 (from 50x38)" in summary
    assert studio.frame(3).shape == (19, 25, 3)
    assert working_size(1280, 720, 384) == (384, 216)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="not a video file"):
        studio.load_video(tmp_path / "notes.txt")
    (tmp_path / "broken.mp4").write_bytes(b"\0" * 1000)
    with pytest.raises(UserError, match="not a readable video"):
        studio.load_video(tmp_path / "broken.mp4")
    with pytest.raises(UserError, match="more than 4 frames; the studio takes at most 4"):
        studio.load_video(clip_mp4, max_frames=4)
    assert len(studio.video) == 6, "a refused file keeps the loaded video"


def test_keyframes_are_checked_and_fitted(studio):
    frame = studio.frame(2)
    with pytest.raises(UserError, match="aspect ratio"):
        studio.set_keyframe(2, np.zeros((50, 50, 3), np.uint8))
    with pytest.raises(UserError, match="out of range"):
        studio.set_keyframe(9, frame)
    double = cv2.resize(_painted(frame), (100, 76))
    rgba = np.dstack([double, np.full(double.shape[:2], 255, np.uint8)])
    studio.set_keyframe(2, rgba, mask=np.zeros((76, 100), bool))
    key = studio.keyframes[2]
    assert key.style.shape == frame.shape and key.mask is None, "an empty mask means no mask"
    assert np.abs(key.style.astype(int) - _painted(frame)).mean() < 12
    mask = np.zeros((38, 50), bool)
    mask[:, :25] = True
    studio.set_keyframe(2, _painted(frame), mask)
    assert studio.keyframes[2].mask[:, :25].all() and not studio.keyframes[2].mask[:, 25:].any()
    assert fit_painting(frame, (50, 38), "x") is frame


def test_training_runs_in_the_background_takes_new_keyframes_pauses_and_exports(studio, tiny_config, tmp_path):
    with pytest.raises(UserError, match="add a keyframe"):
        studio.start_training(tiny_config)
    studio.set_keyframe(0, _painted(studio.frame(0)))
    studio.start_training(tiny_config)
    _wait(lambda: studio.status.step > 5 and studio.preview_version > 1)
    assert studio.status.state == "training" and set(studio.previews) == set(studio.preview_indices)
    assert studio.history and all(np.isfinite(v) for _, _, v in studio.history)
    # A keyframe added while training runs is picked up at the next step.
    studio.set_keyframe(5, _painted(studio.frame(5)))
    _wait(lambda: not studio._keys_changed)
    studio.pause_training()
    time.sleep(0.3)
    paused_at = studio.status.step
    time.sleep(0.5)
    assert studio.status.step == paused_at and studio.training
    # Export pauses nothing that was paused, and writes every frame plus a loadable model.
    video, model_zip = studio.export(show_progress=False)
    assert len(open_video(video)) == 6 and studio.status.state == "paused"
    assert studio.export_summary.startswith("temporal pass (auto)") and (studio.folder / "run" / "flow").is_dir()
    with zipfile.ZipFile(model_zip) as archive:
        archive.extractall(tmp_path / "unzipped")
    model = Stylizer.from_pretrained(next((tmp_path / "unzipped").iterdir()), device="cpu")
    assert model([studio.frame(1)])[0].shape == (38, 50, 3)
    studio.stop_training()
    assert studio.status.state == "stopped" and not studio.training
    state = load_training_state(latest_training_state(studio.folder / "run"))
    keys = [studio.keyframes[0], studio.keyframes[5]]
    assert state["job"] == fingerprint(tiny_config, keys, 0), "the saved state is of both keyframes"
    # The camera path: any size in, shrunk to the asked size.
    assert studio.stylize_frame(np.zeros((240, 320, 3), np.uint8), 160).shape == (120, 160, 3)


def test_export_works_before_the_first_preview(studio, tiny_config, monkeypatch):
    monkeypatch.setattr("reanimate.app.studio.PREVIEW_EVERY", 1e9)  # no preview snapshot ever
    with pytest.raises(UserError, match="no trained network yet"):
        studio.export(show_progress=False)
    studio.set_keyframe(0, _painted(studio.frame(0)))
    studio.start_training(tiny_config)
    _wait(lambda: studio.status.step > 2)
    assert studio._stylizer is None
    video, _ = studio.export(show_progress=False)
    assert len(open_video(video)) == 6
    studio.stop_training()


def test_training_stops_when_the_page_is_gone(tmp_path, clip_mp4, tiny_config):
    studio = Studio(tmp_path / "session", device="cpu", idle_timeout=1.0)
    studio.load_video(clip_mp4)
    studio.set_keyframe(0, _painted(studio.frame(0)))
    studio.start_training(tiny_config)
    _wait(lambda: not studio.training, 30)
    assert "page was gone" in studio.status.message
    studio.close()
    assert not (tmp_path / "session").exists()


def test_training_problems_show_on_the_page(studio, tiny_config):
    with pytest.raises(UserError, match="load a video"):
        Studio(studio.folder.parent / "other").start_training(tiny_config)
    studio.set_keyframe(0, _painted(studio.frame(0)))
    with pytest.raises(UserError, match="guides"):
        studio.start_training(tiny_config.__class__(**{**tiny_config.__dict__, "guide": "gauss"}))
    with pytest.raises(UserError, match="no trained network"):
        studio.stylize_frame(studio.frame(0))


def test_stop_then_new_keyframes_goes_on_and_a_new_video_starts_over(studio, tiny_config, clip_mp4):
    studio.set_keyframe(0, _painted(studio.frame(0)))
    studio.start_training(tiny_config)
    _wait(lambda: studio.status.step > 5)
    studio.stop_training()
    stopped_at = studio.status.step
    studio.set_keyframe(5, _painted(studio.frame(5)))
    studio.start_training(tiny_config)
    _wait(lambda: studio.status.step > stopped_at)
    studio.stop_training()
    assert studio.status.state == "stopped", "the network goes on from where Stop left it, with both keyframes"
    assert [key.index for key in studio._trainer.keyframes] == [0, 5]
    studio.start_training(tiny_config)
    studio.load_video(clip_mp4, max_side=25)  # stops the training and forgets the old video's keyframes
    assert not studio.training and studio.keyframes == {} and studio.status.step == 0
    assert len(list(studio.folder.glob("frames-*"))) == 1, "the old frames are removed"


class _Request:
    def __init__(self, session_hash: str):
        self.session_hash = session_hash


def test_sessions_end_when_their_page_is_gone(tmp_path, monkeypatch, clip_mp4, tiny_config):
    from reanimate.app import sessions as pages

    sessions = pages.Sessions(tmp_path, "cpu", idle_timeout=60.0, max_sessions=2)
    first, second = sessions.get(_Request("a")), sessions.get(_Request("b"))
    assert first is not second and first.folder != second.folder and first.folder.exists()
    with pytest.raises(UserError, match="already serves 2 pages"):
        sessions.get(_Request("c"))
    first.load_video(clip_mp4)
    first.set_keyframe(0, _painted(first.frame(0)))
    first.start_training(tiny_config)
    monkeypatch.setattr(pages, "UNLOAD_GRACE", 0.0)
    sessions.unload(_Request("a"))
    sessions.get(_Request("a"))  # a dropped connection that came back: nothing happens
    sessions.reap()
    assert sessions.get(_Request("a")) is first and first.status.state != "paused"
    sessions.unload(_Request("a"))
    time.sleep(0.01)
    sessions.reap()
    assert first.status.state == "paused" and "page was closed" in first.status.message, \
        "a closed page's training stops using the cores at once"
    assert first.folder.exists() and sessions.get(_Request("a")) is first, "its work waits for the idle timeout"
    monkeypatch.setattr(first, "_last_seen", time.monotonic() - 61)
    sessions.reap()
    assert not first.folder.exists() and not first.training and second.folder.exists()
    with pytest.raises(UserError, match="session has ended"):
        first.start_training(tiny_config)
    sessions.get(_Request("c"))  # the ended page freed its place
    monkeypatch.setattr(sessions, "idle_timeout", 0.0)
    sessions.reap()
    assert not second.folder.exists(), "a page silent for the idle timeout ends too"


def test_a_running_training_keeps_its_preset_until_stopped(studio, tiny_config):
    studio.set_keyframe(0, _painted(studio.frame(0)))
    studio.start_training(tiny_config)
    _wait(lambda: studio.status.step >= 300)  # a history far ahead of where the new network starts
    studio.pause_training()
    other = tiny_config.__class__(**{**tiny_config.__dict__, "preset": "other", "lr": tiny_config.lr / 2})
    with pytest.raises(UserError, match="press Stop first"):
        studio.start_training(other)
    studio.start_training(tiny_config)  # the same preset resumes
    assert studio.status.state == "training"
    studio.stop_training()
    studio.start_training(other)  # after Stop, another preset starts a new network with a new loss plot
    _wait(lambda: studio._trainer is not None and studio._trainer.config == other, 60)
    studio.pause_training()
    with studio._lock:
        assert all(step <= studio._trainer.step for step, _, _ in studio.history)


def test_the_loss_plot_draws_one_curve_per_term():
    from reanimate.app.views import loss_figure

    history = [(step, term, 1.0 / step) for step in range(5, 5000, 5) for term in ("l1", "adversarial")]
    lines = loss_figure(history).axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["l1", "adversarial"]
    assert 600 <= len(lines[0].get_xdata()) <= 1000 and lines[0].get_xdata()[-1] == 4995, "thinned, last step kept"
    assert loss_figure([]).axes[0].get_lines() == []


def test_a_page_waiting_for_an_answer_is_not_idle(studio):
    studio._last_seen -= 1000  # its refreshes stopped arriving (a busy server)
    with studio.long_answer():
        assert studio.idle_seconds() == 0.0, "reaping now would delete the export the page waits for"
    assert studio.idle_seconds() < 1.0, "the answer reached the page: it counts as a heartbeat"


def test_trainings_wait_while_a_page_action_is_answered(studio, tiny_config):
    from reanimate.app.turns import TURNS

    studio.set_keyframe(0, _painted(studio.frame(0)))
    studio.start_training(tiny_config)
    _wait(lambda: studio.status.step > 2)

    def settled_step() -> int:
        """The step count once the step under way has ended (slower on a busy machine)."""
        step = -1
        while step != studio.status.step:
            step = studio.status.step
            time.sleep(1.0)
        return step

    with TURNS.page_action():
        step = settled_step()
        time.sleep(1.0)
        assert studio.status.step == step, "no training step while a click waits for its answer"
    _wait(lambda: studio.status.step > step)


def test_a_failed_page_action_lets_trainings_go_on():
    from reanimate.app.turns import TrainingTurns

    turns = TrainingTurns(1)
    with pytest.raises(RuntimeError), turns.page_action():
        assert turns.action_waiting()
        raise RuntimeError("the handler failed")
    assert not turns.action_waiting()
    with turns.turn(give_up=lambda: False) as granted:
        assert granted


def test_the_export_keeps_the_clips_sound(tmp_path, frames, tiny_config):
    import av

    from media import make_clip  # tests/media.py

    clip = make_clip(tmp_path / "talk.mp4", frames, fps=25, audio_seconds=len(frames) / 25)
    studio = Studio(tmp_path / "session", device="cpu")
    try:
        studio.load_video(clip)
        studio.set_keyframe(0, _painted(studio.frame(0)))
        studio.start_training(tiny_config)
        _wait(lambda: studio.status.step > 2)
        video, _ = studio.export(show_progress=False)
        studio.stop_training()
        with av.open(str(video)) as container:  # read before close() clears the session's folder
            assert container.streams.audio and abs(container.duration / 1e6 - len(frames) / 25) < 0.05
    finally:
        studio.close()


def test_keys_that_cover_little_of_the_video_are_said_before_training(tmp_path):
    from conftest import moving_frames

    from reanimate.io.writer import FrameWriter

    shots = moving_frames(count=10, height=64, width=96, seed=1) + [
        255 - f for f in moving_frames(count=10, height=64, width=96, seed=2)[::-1]]
    with FrameWriter(tmp_path / "cut.mp4", fps=25) as writer:
        for frame in shots:
            writer.write(frame)
    studio = Studio(tmp_path / "session", device="cpu")
    try:
        studio.load_video(tmp_path / "cut.mp4")
        assert studio.coverage_hint() is None  # no keyframe yet: nothing to say
        studio.set_keyframe(0, _painted(studio.frame(0)))
        hint = studio.coverage_hint()
        assert hint.startswith("the key covers")
        suggested = [int(n) for n in re.findall(r"\d+", hint.split("painting frame")[1].split(" too")[0])]
        assert any(n >= 10 for n in suggested)  # a frame of the second shot
        for n in suggested:
            studio.set_keyframe(n, _painted(studio.frame(n)))
        assert studio.coverage_hint() is None  # the suggested keys are enough
    finally:
        studio.close()
