"""One artist's studio session: a video, painted keyframes, training in the background, exports.

This is the app's logic without any web framework, so it is tested directly. Each browser
session owns one `Studio` and one folder; nothing is shared between sessions. Training runs in a
background thread that the page steers (start, pause, resume, stop, swap keyframes) and watches
(losses, preview frames); it stops by itself when the page stops calling `heartbeat`.
"""

import contextlib
import dataclasses
import shutil
import threading
import time
import traceback
from pathlib import Path
from typing import Iterator

import numpy as np

from reanimate.app.exports import export_stylized
from reanimate.app.frames import as_rgb, decode_frames, fit_mask, fit_painting, shrink
from reanimate.app.memory import give_back_memory
from reanimate.app.status import TrainingStatus
from reanimate.app.turns import TURNS, TurnTaking
from reanimate.core.device import resolve_device
from reanimate.core.errors import UserError
from reanimate.core.run import Every, train_loop
from reanimate.io.video import Video
from reanimate.stylize.config import StylizeConfig, load_config, resolve_preset
from reanimate.stylize.data import Keyframe
from reanimate.stylize.job import coverage_hint, preview_indices, suggest_video_keyframes

SESSION_ENDED = "this page's session has ended (it was closed or idle too long): reload the page"
MAX_FRAMES = 1500  # a minute at 25 fps: longer clips would make every render wait minutes on a CPU
PREVIEW_EVERY = 3.0  # seconds of wall time between preview refreshes while training
CHECKPOINT_EVERY = 60.0  # seconds between training states on disk
HISTORY_EVERY = 5  # steps between loss records in the plot


class Studio:
    """The state of one browser session.

    Args:
        folder: this session's own folder (frames, run, exports); removed by `close`.
        device: "auto", "cpu", "cuda", ...
        idle_timeout: training stops when no `heartbeat` came for this many seconds
            (the page was closed, or the computer went to sleep).

    Example:
        >>> studio = Studio("work/session")
        >>> studio.load_video("clip.mp4", max_side=384)
        >>> studio.set_keyframe(0, painted)
        >>> studio.start_training("fast")
        >>> studio.export()   # (mp4 path, model zip path)
    """

    def __init__(self, folder: str | Path, device: str = "auto", idle_timeout: float = 300.0):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.device, self.idle_timeout = device, idle_timeout
        self.device_name = str(resolve_device(device))
        self.video: Video | None = None
        self.source_name = ""
        self.keyframes: dict[int, Keyframe] = {}
        self.preview_indices: list[int] = []
        self.previews: dict[int, np.ndarray] = {}
        self.preview_version = 0  # bumps whenever previews change, so the page re-sends images only then
        self.export_summary = ""  # what the last export's temporal pass did
        self.history: list[tuple[int, str, float]] = []  # (step, loss name, value)
        self.status = TrainingStatus()
        # _lock guards what the page and the training thread share; _steering lets one action at a
        # time load, start, stop, export or close (a second click waits instead of interleaving).
        self._lock = threading.Lock()
        self._steering = threading.RLock()
        self._step_lock = threading.Lock()  # held during a training step, so snapshots see whole updates
        self._thread: threading.Thread | None = None
        self._trainer = None  # kept after Stop, so that Start goes on from where it was
        self._stop = threading.Event()
        self._stop_reason = "stopped"
        self._running = threading.Event()  # cleared = paused
        self._user_paused = False
        self._keys_changed = False
        self._stylizer = None  # a snapshot of the network for rendering and the camera
        self._frames_dir: Path | None = None
        self._config: StylizeConfig | None = None  # the preset of the current training
        self._closed = False
        self._last_seen = time.monotonic()
        self._long_answers = 0  # long answers in progress (see `long_answer`)

    # -- the video -------------------------------------------------------------------------------

    def load_video(self, path: str | Path, max_side: int = 384, max_frames: int = MAX_FRAMES,
                   show_progress: bool = True) -> str:
        """Decode a video into this session's frames at the working size; returns a summary line.

        Keyframes, training and previews of the previous video are dropped once the new one is ready;
        a refused or broken file leaves everything as it was.
        """
        video, frames, summary = decode_frames(Path(path), self.folder, max_side, max_frames, show_progress)
        with self._steering:
            if self._closed:
                shutil.rmtree(frames, ignore_errors=True)
                raise UserError(SESSION_ENDED)
            self.stop_training()
            old = self._frames_dir
            with self._lock:
                self.video, self._frames_dir, self.source_name = video, frames, Path(path).name
                self.keyframes, self.previews, self.history = {}, {}, []
                self.preview_indices = preview_indices(len(video)) or [0]
                self.status, self._stylizer, self._trainer = TrainingStatus(), None, None
                self.preview_version += 1
            shutil.rmtree(self.folder / "run", ignore_errors=True)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        return summary

    def frame(self, index: int) -> np.ndarray:
        video = self.need_video()
        return video.read(int(np.clip(index, 0, len(video) - 1)))

    def need_video(self) -> Video:
        if self.video is None:
            raise UserError("load a video first")
        return self.video

    # -- keyframes -------------------------------------------------------------------------------

    def suggest_keyframes(self, count: int | None = None) -> dict:
        """Which frames to paint (`reanimate keyframes`): keys, coverage curve and a sheet in this session's folder."""
        return self._with_flow(lambda video, work: suggest_video_keyframes(
            video, count=count, sheet=self.folder / "keyframes.png", work_dir=work, show_progress=False))

    def coverage_hint(self) -> str | None:
        """A word for the artist when the keyframes cover little of the video (`stylize.job.coverage_hint`)."""
        keys = sorted(self.keyframes)
        return self._with_flow(lambda video, work: coverage_hint(video, keys, work, False)) if keys else None

    def _with_flow(self, job):
        with self.long_answer(), self._steering:  # one at a time: two would share the flow cache
            if self._closed:
                raise UserError(SESSION_ENDED)
            return job(self.need_video(), self.folder / "suggest")

    def set_keyframe(self, index: int, painted: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Add or repaint keyframe `index`; a running training picks it up at its next step.

        Args:
            painted: the painted frame, RGB or RGBA uint8 of the frame's aspect ratio (resized to fit).
            mask: optional, True (or non-zero) where the painting should be learned.
        """
        video = self.need_video()
        if not 0 <= index < len(video):
            raise UserError(f"frame {index} is out of range: the video has frames 0..{len(video) - 1}")
        painted = fit_painting(as_rgb(painted), video.size, "painted keyframe")
        key = Keyframe(index, video.read(index), painted, None if mask is None else fit_mask(mask, video.size))
        with self._lock:
            if self.video is not video:
                raise UserError("another video was loaded meanwhile: paint a frame of that one")
            self.keyframes[index] = key
            self._keys_changed = True

    def remove_keyframe(self, index: int) -> None:
        with self._lock:
            if index not in self.keyframes:
                raise UserError(f"frame {index} is not a keyframe")
            if len(self.keyframes) == 1 and self.training:
                raise UserError("training needs a keyframe: add another before removing the last one")
            del self.keyframes[index]
            self._keys_changed = True

    def set_preview_frames(self, indices: list[int]) -> None:
        video = self.need_video()
        bad = [i for i in indices if not 0 <= i < len(video)]
        if bad:
            raise UserError(f"preview frames {bad} are out of range: the video has frames 0..{len(video) - 1}")
        if not indices:
            raise UserError("choose at least one preview frame")
        with self._lock:
            self.preview_indices = sorted(set(indices))[:8]

    def snapshot(self) -> tuple[TrainingStatus, list[Keyframe], list[int]]:
        """A consistent copy of the status, the keyframes (by index) and the preview frames, for the page."""
        with self._lock:
            status = dataclasses.replace(self.status, losses=dict(self.status.losses))
            return status, self._sorted_keys(), list(self.preview_indices)

    def _sorted_keys(self) -> list[Keyframe]:
        return sorted(self.keyframes.values(), key=lambda k: k.index)

    # -- training --------------------------------------------------------------------------------

    @property
    def training(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start_training(self, preset: str | StylizeConfig = "fast", seed: int = 0) -> None:
        """Train in the background, or resume; after Stop it goes on from the same network.

        Args:
            preset: a preset name ("auto", "fast", "paper", a YAML file) or a full `StylizeConfig`; another
                preset than the stopped training's starts a new network.
        """
        with self._steering:
            if self._closed:
                raise UserError(SESSION_ENDED)
            self.need_video()
            if not self.keyframes:
                raise UserError("add a keyframe first: paint a frame, or upload a painted one")
            config = preset if isinstance(preset, StylizeConfig) else load_config(
                resolve_preset(preset, resolve_device(self.device)))
            if self.training:
                if config != self._config:
                    raise UserError(f"the training runs with preset {self._config.preset!r}: press Stop first "
                                    f"to start over with {config.preset!r}")
                self.resume_training()
                return
            if config.needs_flow:
                raise UserError(f"preset {config.preset!r} uses guides or filtered input, which the studio does "
                                "not train; use `reanimate stylize` for those")
            self._stop.clear()
            self._running.set()
            self._stop_reason = "stopped"
            self._config = config
            with self._lock:
                self._user_paused = False
                self.status = dataclasses.replace(self.status, state="starting", message="building the network")
            self._thread = threading.Thread(target=self._train, args=(config, seed), daemon=True,
                                            name=f"studio-train-{self.folder.name}")
            self._thread.start()

    def pause_training(self) -> None:
        with self._lock:
            self._user_paused = True
            self._pause("press Start / resume to go on")

    def _pause(self, message: str) -> None:
        """Pause a running training (call with _lock held)."""
        if self.training and self.status.state in ("starting", "training"):
            self._running.clear()
            self.status.state, self.status.message = "paused", message

    def pause_for_absence(self) -> None:
        """The page was closed: stop using the cores until it comes back and presses Start / resume."""
        with self._lock:
            self._pause("the page was closed or lost its connection: press Start / resume to go on")

    def resume_training(self) -> None:
        with self._lock:
            self._user_paused = False
            if self.training and self.status.state == "paused":
                self._running.set()
                self.status.state, self.status.message = "training", ""

    def stop_training(self, reason: str = "stopped") -> None:
        """Stop the background training (it saves its state first) and wait for it."""
        with self._steering:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return
            self._stop_reason = reason
            self._stop.set()
            self._running.set()
            thread.join()

    def heartbeat(self) -> None:
        """The page is open: called on every refresh."""
        self._last_seen = time.monotonic()

    def idle_seconds(self) -> float:
        """Seconds since the page last called `heartbeat`; 0 while the page waits for an answer."""
        if self._long_answers:
            return 0.0
        return time.monotonic() - self._last_seen

    @contextlib.contextmanager
    def long_answer(self) -> Iterator[None]:
        """Long work a page waits for (an export): the session is not idle meanwhile. A busy server
        may not pass the page's refreshes on while the page waits, and reaping the session then
        deleted the finished video before the page could fetch it."""
        with self._lock:
            self._long_answers += 1
        try:
            yield
        finally:
            with self._lock:
                self._long_answers -= 1
                self._last_seen = time.monotonic()

    def _train(self, config: StylizeConfig, seed: int) -> None:
        """The training thread: it alone changes the training's state until it ends."""
        trainer, state, message = None, "stopped", ""
        try:
            trainer = self._prepare_trainer(config, seed)
            with self._lock:
                if self.status.state == "starting":
                    self.status.state, self.status.message = "training", f"training on {trainer.device}"
                self.status.step, self.status.seconds = trainer.step, trainer.elapsed
            self._train_until_stopped(trainer)
            message = self._stop_reason
        except UserError as exc:
            state, message = "failed", str(exc)
        except Exception as exc:  # shown on the page instead of dying silently in a thread
            state, message = "failed", f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        finally:
            if trainer is not None:
                self._wrap_up(trainer)
            with self._lock:
                self.status.state, self.status.message = state, message

    def _prepare_trainer(self, config: StylizeConfig, seed: int):
        from reanimate.stylize.train import Trainer

        with self._lock:
            keys = self._sorted_keys()
            self._keys_changed = False
        trainer = self._trainer
        if trainer is not None and trainer.config == config and trainer.seed == seed:
            trainer.set_keyframes(keys)  # the keyframes may have changed while it was stopped
        else:
            trainer = Trainer(config, keys, self.folder / "run", self.device, seed)
            with self._lock:  # another network: the loss plot starts over with it
                self.history = [record for record in self.history if record[0] <= trainer.step]
        self._trainer = trainer
        return trainer

    def _train_until_stopped(self, trainer) -> None:
        def step() -> dict[str, float]:
            called = time.perf_counter()  # the loop times this call: the lock's wait and _record come off it
            with self._step_lock:
                started = time.perf_counter()
                losses = trainer.train_step()
                took = time.perf_counter() - started
            self._record(trainer, losses, trainer.elapsed + took)
            trainer.elapsed -= time.perf_counter() - called - took
            return losses

        # Previews (a few full-frame renders) and saves take the cores too: they run inside the turn, so
        # eight pages' previews never run at once beside the server; not while a click waits.
        preview = Every(lambda _: self._refresh_previews(trainer), PREVIEW_EVERY, wall=True, first=0.0,
                        when=lambda: not TURNS.action_waiting())
        checkpoint = Every(lambda _: trainer.save_state(), CHECKPOINT_EVERY, wall=True, saves=True)

        def swap_keyframes() -> None:
            if self._keys_changed:
                with self._lock:
                    keys = self._sorted_keys()
                    self._keys_changed = False
                trainer.set_keyframes(keys)
                preview.soon()  # show the effect of the new keyframe soon

        pacing = TurnTaking(self._should_stop, self._running, lambda: self._keys_changed, swap_keyframes)
        train_loop(step, trainer, every=(preview, checkpoint), pacing=pacing)

    def _should_stop(self) -> bool:
        if self._stop.is_set():
            return True
        if self.idle_seconds() > self.idle_timeout:
            self._stop_reason = f"stopped: the page was gone for {self.idle_timeout:.0f} s"
            return True
        return False

    def _wrap_up(self, trainer) -> None:
        """Save the training state and show the last previews, also after a failure."""
        try:
            trainer.save_state()
            if trainer.step:
                self._refresh_previews(trainer)
        except Exception:
            traceback.print_exc()

    def _record(self, trainer, losses: dict[str, float], elapsed: float) -> None:
        with self._lock:
            status = self.status
            status.step, status.seconds, status.losses = trainer.step, elapsed, losses
            status.steps_per_second = trainer.step / max(elapsed, 1e-9)
            if trainer.step % HISTORY_EVERY == 0:
                self.history += [(trainer.step, name, value) for name, value in losses.items()]

    def _refresh_previews(self, trainer) -> None:
        from reanimate.nn.convert import to_tensor

        with self._lock:
            indices = list(self.preview_indices)
        frames = self.need_video().read_many(indices)
        previews = {i: trainer.render_preview(to_tensor(frame)) for i, frame in frames.items()}
        stylizer = trainer.stylizer()
        with self._lock:
            self.previews, self._stylizer = previews, stylizer
            self.preview_version += 1

    # -- results ---------------------------------------------------------------------------------

    def stylizer(self):
        if self._stylizer is None:
            raise UserError("no trained network yet: load a video, add a keyframe and start training")
        return self._stylizer

    def stylize_frame(self, frame: np.ndarray, max_side: int = 320) -> np.ndarray:
        """Restyle one image (a camera frame), shrunk to `max_side`, with the latest network."""
        return self.stylizer()([shrink(frame, max_side)])[0]

    def export(self, show_progress: bool = True, temporal: float | str = "auto") -> tuple[Path, Path]:
        """Render every frame to an mp4 and zip the model folder; returns (video, model zip).

        A running training pauses while rendering (both would share the same cores) and goes on
        after, unless Pause was pressed meanwhile. `temporal`: the temporal consistency pass, as in
        `Stylizer.render`; what it did is in `export_summary`.
        """
        with self.long_answer(), self._steering:
            if self._closed:
                raise UserError(SESSION_ENDED)
            video = self.need_video()
            trainer = self._trainer
            if trainer is None or not trainer.step:
                self.stylizer()  # a clear error before anything is paused (a first step may not have a preview yet)
            with self._lock:
                was_running = self.status.state in ("starting", "training")
                self._user_paused = False
                self._pause("paused while the video renders")
            try:
                out, model, self.export_summary = export_stylized(
                    self._latest_stylizer(), video, self.folder / "exports", Path(self.source_name).stem or "video",
                    self.folder / "run", temporal, show_progress)
                return out, model
            finally:
                if was_running and not self._user_paused:
                    self.resume_training()

    def _latest_stylizer(self):
        """The network as it is now: the training's own, else the last snapshot."""
        trainer = self._trainer
        if trainer is None or not trainer.step:
            return self.stylizer()
        with self._step_lock:
            return trainer.stylizer()

    def close(self) -> None:
        """Stop training and remove this session's folder."""
        with self._steering:
            self._closed = True
            self.stop_training("the page was closed")
            shutil.rmtree(self.folder, ignore_errors=True)
            with self._lock:  # the networks and frames go now, even while the page object lingers
                self._trainer = self._stylizer = self.video = None
                self.previews, self.keyframes, self.history = {}, {}, []
        give_back_memory()
