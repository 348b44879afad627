"""One artist's studio session: a video, painted keyframes, training in the background, exports.

This is the app's logic without any web framework, so it is tested directly. Each browser
session owns one `Studio` and one folder; nothing is shared between sessions. Training runs in a
background thread that the page steers (start, pause, resume, stop, swap keyframes) and watches
(losses, preview frames); it stops by itself when the page stops calling `heartbeat`.
"""

import collections
import contextlib
import dataclasses
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from reanimate.app.talk import TalkingHead
from reanimate.core.device import resolve_device
from reanimate.core.errors import UserError
from reanimate.core.files import atomic_path
from reanimate.core.progress import progress
from reanimate.io.video import VIDEO_EXTENSIONS, Video, VideoTooLong, open_video
from reanimate.stylize.config import StylizeConfig, load_config, resolve_preset
from reanimate.stylize.data import Keyframe
from reanimate.stylize.job import preview_indices, suggest_video_keyframes

SESSION_ENDED = "this page's session has ended (it was closed or idle too long): reload the page"
MAX_FRAMES = 1500  # a minute at 25 fps: longer clips would make every render wait minutes on a CPU
PREVIEW_EVERY = 3.0  # seconds of wall time between preview refreshes while training
CHECKPOINT_EVERY = 60.0  # seconds between training states on disk
HISTORY_EVERY = 5  # steps between loss records in the plot
TURN_SECONDS = 0.5  # a training steps this long, then lets the next waiting page's training have the cores


class TrainingTurns:
    """The pages' trainings take turns on the cores: at most `slots` train at once, first come first
    served, each for TURN_SECONDS at a time.

    Eight trainings stepping at once on two cores would each run slower than an eighth (their
    threads fight over cores and caches) and leave no time for the server: pages would wait
    seconds for an answer. Taking turns keeps the total speed and the server's share.
    """

    def __init__(self, slots: int):
        self.slots = slots
        self._changed = threading.Condition()
        self._waiting: collections.deque = collections.deque()
        self._busy = 0
        self._actions = 0  # page actions being answered: trainings wait for them

    @contextlib.contextmanager
    def page_action(self) -> Iterator[None]:
        """A click being answered: no training step starts until it is. On two cores the trainings'
        threads took the cores from the server, and with eight pages a Pause took 5 s to answer."""
        with self._changed:
            self._actions += 1
        try:
            yield
        finally:
            with self._changed:
                self._actions -= 1
                self._changed.notify_all()

    def answering(self) -> bool:
        """A page action waits: the training in its turn stops after the current step."""
        return self._actions > 0

    @contextlib.contextmanager
    def turn(self, give_up) -> Iterator[bool]:
        """Wait for a turn; yields False (without one) as soon as `give_up()` is true (stop, pause)."""
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
            while self._busy >= self.slots or self._waiting[0] is not ticket or self.answering():
                if give_up():
                    self._waiting.remove(ticket)
                    self._changed.notify_all()
                    yield False
                    return
                self._changed.wait(timeout=0.2)
            self._waiting.popleft()
            self._busy += 1
            self._changed.notify_all()
        try:
            yield True
        finally:
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()


TURNS = TrainingTurns(max(1, (os.cpu_count() or 2) // 2))


def give_back_memory() -> None:
    """Return freed memory to the system: glibc keeps what each training thread's malloc arena
    freed, so a closed page's hundreds of MB would stay with the server. Linux (glibc) only."""
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # another C library
            pass



def working_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The frame size the studio works at: the video's, shrunk so its longer side is at most max_side."""
    scale = min(1.0, max_side / max(width, height))
    return max(16, round(width * scale)), max(16, round(height * scale))


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An image from the page (RGB or RGBA order, any dtype) as RGB uint8; transparency shows black."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] in (2, 4):
        alpha = image[:, :, -1:].astype(np.float32) / 255.0
        image = (image[:, :, :-1].astype(np.float32) * alpha + 0.5).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[:, :, :3])


def fit_painting(image: np.ndarray, size: tuple[int, int], what: str) -> np.ndarray:
    """A painted keyframe or mask at the working size; it must have the frame's aspect ratio."""
    height, width = image.shape[:2]
    if abs(width / height - size[0] / size[1]) > 0.02 * size[0] / size[1]:
        raise UserError(f"the {what} is {width}x{height}, but frames are {size[0]}x{size[1]}: "
                        "paint on a frame of this video (the aspect ratio must match)")
    if (width, height) == size:
        return image
    interpolation = cv2.INTER_AREA if width > size[0] else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation)


@dataclass
class TrainingStatus:
    state: str = "idle"  # idle, starting, training, paused, stopped, failed
    message: str = ""
    step: int = 0
    seconds: float = 0.0  # training time, pauses excluded
    steps_per_second: float = 0.0
    losses: dict[str, float] = field(default_factory=dict)


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
        self._answering = 0  # long answers in progress (see `answering`)
        self.talk = TalkingHead(self.folder / "talk", device)  # the talking-head tab's work

    # -- the video -------------------------------------------------------------------------------

    def load_video(self, path: str | Path, max_side: int = 384, max_frames: int = MAX_FRAMES,
                   show_progress: bool = True) -> str:
        """Decode a video into this session's frames at the working size; returns a summary line.

        Keyframes, training and previews of the previous video are dropped once the new one is ready;
        a refused or broken file leaves everything as it was.
        """
        path = Path(path)
        if path.suffix.lower() not in VIDEO_EXTENSIONS:
            raise UserError(f"{path.name} is not a video file: use one of {', '.join(VIDEO_EXTENSIONS)}")
        try:  # clear errors for missing, empty or corrupt files; a long clip is refused without decoding it all
            source = open_video(path, max_frames=max_frames)
        except VideoTooLong as exc:
            raise UserError(f"{exc}; the studio takes at most {max_frames}: cut the clip, or stylize it whole "
                            "with `reanimate stylize`") from exc
        size = working_size(source.width, source.height, max_side)
        # A folder of its own: a training still running on the old video reads the old frames.
        frames = Path(tempfile.mkdtemp(prefix="frames-", dir=self.folder))
        try:
            with progress(len(source), "decode", "frame", enabled=show_progress) as bar:
                for index, frame in source.frames():
                    if (frame.shape[1], frame.shape[0]) != size:
                        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
                    if not cv2.imwrite(str(frames / f"{index:05d}.png"), frame[:, :, ::-1].copy()):
                        raise UserError(f"could not write frame {index} into {frames}: is the disk full?")
                    bar.update(1)
            # The frames keep the clip's times, colour and sound for the export.
            video = dataclasses.replace(open_video(frames, fps=source.fps), rate=source.rate, times=source.times,
                                        colour=source.colour, audio=source.audio, sound=source.sound)
        except BaseException:
            shutil.rmtree(frames, ignore_errors=True)
            raise
        with self._steering:
            if self._closed:
                shutil.rmtree(frames, ignore_errors=True)
                raise UserError(SESSION_ENDED)
            self.stop_training()
            old = self._frames_dir
            with self._lock:
                self.video, self._frames_dir, self.source_name = video, frames, path.name
                self.keyframes, self.previews, self.history = {}, {}, []
                self.preview_indices = preview_indices(len(video)) or [0]
                self.status, self._stylizer, self._trainer = TrainingStatus(), None, None
                self.preview_version += 1
            shutil.rmtree(self.folder / "run", ignore_errors=True)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        scaled = "" if size == source.size else f" (from {source.width}x{source.height})"
        return (f"{path.name}: {len(source)} frames of {size[0]}x{size[1]}{scaled} at {source.fps:.3g} fps")

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
        with self.answering(), self._steering:  # one at a time: two would share the flow cache
            if self._closed:
                raise UserError(SESSION_ENDED)
            video = self.need_video()
            return suggest_video_keyframes(video, count=count, sheet=self.folder / "keyframes.png",
                                           work_dir=self.folder / "suggest", show_progress=False)

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
        if mask is not None:
            mask = fit_painting((np.asarray(mask) > 0).astype(np.uint8) * 255, video.size, "mask") > 127
            if mask.ndim == 3:
                mask = mask.any(axis=2)
            if not mask.any():
                mask = None  # an empty mask means "no mask", not "learn nothing"
        key = Keyframe(index, video.read(index), painted, mask)
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
        if self._answering:
            return 0.0
        return time.monotonic() - self._last_seen

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Long work a page waits for (an export): the session is not idle meanwhile. A busy server
        may not pass the page's refreshes on while the page waits, and reaping the session then
        deleted the finished video before the page could fetch it."""
        with self._lock:
            self._answering += 1
        try:
            yield
        finally:
            with self._lock:
                self._answering -= 1
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
        last_preview, last_save = 0.0, time.monotonic()
        while not self._stop.is_set():
            if self.idle_seconds() > self.idle_timeout:
                self._stop_reason = f"stopped: the page was gone for {self.idle_timeout:.0f} s"
                break
            if not self._running.is_set():
                self._running.wait(timeout=1.0)
                continue
            if self._keys_changed:
                with self._lock:
                    keys = self._sorted_keys()
                    self._keys_changed = False
                trainer.set_keyframes(keys)
                last_preview = 0.0  # show the effect of the new keyframe soon
            with TURNS.turn(give_up=lambda: self._stop.is_set() or not self._running.is_set()) as granted:
                turn_ends = time.monotonic() + TURN_SECONDS
                while (granted and time.monotonic() < turn_ends and self._running.is_set() and not self._stop.is_set()
                       and not TURNS.answering()):
                    with self._step_lock:
                        started = time.perf_counter()
                        losses = trainer.train_step()
                        trainer.elapsed += time.perf_counter() - started
                    self._record(trainer, losses)
                    if self._keys_changed:
                        break
                # Previews (a few full-frame renders) and saves take the cores too: inside the turn, so
                # eight pages' previews never run at once beside the server.
                now = time.monotonic()
                if granted and now - last_preview >= PREVIEW_EVERY and not TURNS.answering():
                    self._refresh_previews(trainer)
                    last_preview = time.monotonic()
                if granted and now - last_save >= CHECKPOINT_EVERY:
                    trainer.save_state()
                    last_save = now

    def _wrap_up(self, trainer) -> None:
        """Save the training state and show the last previews, also after a failure."""
        try:
            trainer.save_state()
            if trainer.step:
                self._refresh_previews(trainer)
        except Exception:
            traceback.print_exc()

    def _record(self, trainer, losses: dict[str, float]) -> None:
        with self._lock:
            status = self.status
            status.step, status.seconds, status.losses = trainer.step, trainer.elapsed, losses
            status.steps_per_second = trainer.step / max(trainer.elapsed, 1e-9)
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
        stylizer = self.stylizer()
        frame = as_rgb(frame)
        height, width = frame.shape[:2]
        if max(width, height) > max_side:
            frame = cv2.resize(frame, working_size(width, height, max_side), interpolation=cv2.INTER_AREA)
        return stylizer([frame])[0]

    def export(self, show_progress: bool = True, temporal: float | str = "auto") -> tuple[Path, Path]:
        """Render every frame to an mp4 and zip the model folder; returns (video, model zip).

        A running training pauses while rendering (both would share the same cores) and goes on
        after, unless Pause was pressed meanwhile. `temporal`: the temporal consistency pass, as in
        `Stylizer.render`; what it did is in `export_summary`.
        """
        with self.answering(), self._steering:
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
                stylizer = self._latest_stylizer()
                exports = self.folder / "exports"
                exports.mkdir(exist_ok=True)
                stem = Path(self.source_name).stem or "video"
                out = exports / f"{stem}-stylized.mp4"
                # A render takes the cores like a training does, so it waits for a turn: two renders
                # and a training at once, each with a full set of OpenMP threads, ran 4x slower
                # together than one after another. The flow cache sits beside the training's own.
                with TURNS.turn(give_up=lambda: False):
                    stylizer.render(video, out, overwrite=True, show_progress=show_progress,
                                    work_dir=self.folder / "run", temporal=temporal)
                steady = stylizer.temporal_pass
                self.export_summary = steady.report.summary(steady.chosen) if steady else "temporal pass: off"
                model = stylizer.save_pretrained(exports / f"{stem}-model", overwrite=True)
                with atomic_path(exports / f"{stem}-model.zip") as tmp:
                    shutil.make_archive(str(tmp.with_suffix("")), "zip", model.parent, model.name)
                return out, exports / f"{stem}-model.zip"
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
