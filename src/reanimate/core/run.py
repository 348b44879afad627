"""The one training loop: every training in reanimate runs here, each bringing only its step.

Stylization (`stylize.train.Trainer`, and through it `tune`), the studio's live training,
meta-learning (`talking_head.meta_train`) and few-shot fine-tuning (`talking_head.fewshot`) each
give `train_loop` a function that does one update. The loop keeps the books the same way for all:
the budget (steps or seconds of training, resumed parts included), the progress bar, periodic work
(previews, checkpoints, logs) on the training clock or the wall clock, turn-taking with other
trainings (the studio), and a last save when the loop ends (finished, Ctrl-C, SIGTERM, and after an
error where the caller says its state is still good).

The resume policy is here too (`resume_state`): a run folder holds one job, and its newest state is
resumed only by that job. The state of another job is never resumed: a job that is cheap to redo and
that a user changes by design (a repainted keyframe) moves the other job's states aside to
`RUN/superseded/` (only the last other job's are kept there) and starts over; any other job refuses,
saying what differs.
"""

import contextlib
import dataclasses
import math
import shutil
import time
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, Protocol

from reanimate.core.checkpoint import latest_training_state, load_training_state
from reanimate.core.errors import UserError
from reanimate.core.progress import progress, say

SUPERSEDED = "superseded"  # where another job's training states go (RUN/superseded/)


@dataclasses.dataclass(frozen=True)
class Budget:
    """How long a training runs: `steps` in all, `seconds` of training in all, or whichever comes first.

    Both count the whole job (a resumed run finishes it), and seconds count training steps only
    (previews and checkpoints are not training).
    """

    steps: int | None = None
    seconds: float | None = None

    def __post_init__(self):
        if self.steps is None and self.seconds is None:
            raise UserError("give a training budget: a number of steps or of seconds")
        if (self.steps is not None and self.steps < 0) or (self.seconds is not None and self.seconds < 0):
            raise UserError("the training budget must not be negative")

    @classmethod
    def one_of(cls, steps: int | None, seconds: float | None, names: tuple[str, str] = ("iterations", "seconds"),
               ) -> "Budget":
        """Exactly one of the two (the check every command with both options makes); `names`: the
        caller's parameter names for them, which the message gives."""
        if steps is None and seconds is None:
            raise UserError(f"give a training budget: `{names[0]}` N or `{names[1]}` S")
        if steps is not None and seconds is not None:
            raise UserError(f"give either `{names[0]}` N or `{names[1]}` S, not both: exactly one budget")
        return cls(steps, seconds)

    def done(self, step: int, elapsed: float) -> bool:
        return ((self.steps is not None and step >= self.steps)
                or (self.seconds is not None and elapsed >= self.seconds))

    def fraction(self, step: int, elapsed: float) -> float:
        """How far through the budget (for a learning-rate schedule): the step count's when it has one."""
        if self.steps is not None:
            return step / max(self.steps, 1e-9) if self.steps else 1.0
        return elapsed / max(self.seconds, 1e-9)

    @property
    def counts_steps(self) -> bool:
        return self.steps is not None


class Books(Protocol):
    """What the loop reads and keeps: the trainer's step count (its step function advances it) and its
    seconds of training (the loop adds each step's time)."""

    step: int
    elapsed: float


@dataclasses.dataclass
class Every:
    """Work due periodically: every `seconds` of training, or of wall time with `wall` (the time
    the previews and checkpoints themselves take counts then), or every `steps` steps.

    Args:
        action: called with the last step's losses.
        first: seconds (on the same clock) or steps after the loop starts when it is first due
            (default: one period).
        spacing: after it runs, the next time is at least this many times its own cost away:
            previews render whole frames, which on a slow machine took a third of the wall time.
        at_end: also due at the last step of the budget.
        when: it waits while this says no (the studio: while a page's click is being answered).
        saves: the action keeps the training state (a checkpoint): the loop's last save then knows.
    """

    action: Callable[[dict], Any]
    seconds: float | None = None
    steps: int | None = None
    wall: bool = False
    first: float | None = None
    spacing: float = 0.0
    at_end: bool = False
    when: Callable[[], bool] | None = None
    saves: bool = False
    _next: float = dataclasses.field(default=0.0, init=False)

    def start(self, books: Books) -> None:
        if self.first is not None:
            self._next = self._now(books) + self.first
        else:
            self._next = self._after(books)

    def soon(self) -> None:
        """Due at the next chance (the studio: a new keyframe's effect is shown at once)."""
        self._next = -math.inf

    def due(self, books: Books, last: bool) -> bool:
        if self.when is not None and not self.when():
            return False
        return self._now(books) >= self._next or (self.at_end and last)

    def run(self, books: Books, losses: dict) -> None:
        started = time.perf_counter()
        self.action(losses)
        cost = time.perf_counter() - started
        self._next = self._after(books, cost)

    def _after(self, books: Books, cost: float = 0.0) -> float:
        if self.steps is not None:  # on multiples of the period: a resumed run logs at the same steps
            return (books.step // self.steps + 1) * self.steps
        return self._now(books) + max(self.seconds, self.spacing * cost)

    def _now(self, books: Books) -> float:
        if self.steps is not None:
            return books.step
        return time.monotonic() if self.wall else books.elapsed


class Pacing:
    """When the loop may step. The default steps without pause; the studio's waits for its turn on
    the cores, pauses, and stops when the page asks or leaves (`app.turns.TurnTaking`)."""

    def stop(self) -> bool:
        """True ends the loop before the next turn."""
        return False

    def turn(self) -> ContextManager[bool]:
        """A turn on the cores; yields False when none was given (the loop asks again)."""
        return contextlib.nullcontext(True)

    def more(self) -> bool:
        """Another step within this turn (the default: one step a turn)."""
        return False


def train_loop(step: Callable[[], dict], books: Books, budget: Budget | None = None, *, every: tuple[Every, ...] = (),
               save: Callable[[], Any] | None = None, pacing: Pacing | None = None, show: Callable | None = None,
               bar: dict | None = None, save_after_error: bool = True) -> dict:
    """Step until the budget is spent (or, without one, until `pacing.stop()`); returns the last losses.

    Args:
        step: one update; it advances `books.step` and returns its losses {name: float}.
        books: the trainer (its `step` and `elapsed`, resumed values included).
        every: periodic work (previews, checkpoints, logs), run between turns.
        save: keeps the training state; called when the loop ends with steps unsaved (the checkpoints
            among `every` are marked `saves`, so it knows what is saved): finished, interrupted (Ctrl-C,
            SIGTERM) and, with `save_after_error`, after an error.
        save_after_error: False where an error can leave the state bad (meta-learning's non-finite
            loss): the last checkpoint on disk is then the good state to resume.
        pacing: turn-taking (default: none).
        show: the bar's postfix for the last losses every 5 steps (None: no postfix).
        bar: `core.progress.progress` arguments (desc, unit, enabled); None shows no bar.
    """
    pacing = pacing or Pacing()
    losses: dict = {}
    saved_at = books.step
    finished = (lambda: budget.done(books.step, books.elapsed)) if budget is not None else (lambda: False)
    for hook in every:
        hook.start(books)
    failed: BaseException | None = None
    with _bar(budget, books, bar) as shown:
        try:
            while not finished() and not pacing.stop():
                with pacing.turn() as granted:
                    if not granted:
                        continue
                    while True:
                        started = time.perf_counter()
                        losses = step()
                        books.elapsed += time.perf_counter() - started
                        _advance(shown, budget, books)
                        if show is not None and (books.step % 5 == 0 or finished()):
                            postfix = show(losses)
                            if isinstance(postfix, str):
                                shown.set_postfix_str(postfix, refresh=False)
                            else:
                                shown.set_postfix(postfix, refresh=False)
                        if finished() or not pacing.more():
                            break
                    for hook in every:
                        if hook.due(books, finished()):
                            hook.run(books, losses)
                            if hook.saves:
                                saved_at = books.step
        except BaseException as exc:
            failed = exc
            raise
        finally:
            # Keep what was learned, so the next run resumes here (Stopped, SIGTERM, is a KeyboardInterrupt).
            good = failed is None or isinstance(failed, KeyboardInterrupt) or save_after_error
            if save is not None and books.step != saved_at and good:
                save()
    return losses


@contextlib.contextmanager
def _bar(budget: Budget | None, books: Books, options: dict | None) -> Iterator:
    enabled = options is not None and options.get("enabled", True)
    options = dict(options or {})
    options.pop("enabled", None)
    unit = options.pop("unit", "it")
    if budget is None or not enabled:
        with progress(None, enabled=False) as bar:
            yield bar
        return
    if budget.counts_steps:
        total, done = budget.steps, books.step
    else:  # whole seconds, so the bar reads 12/150 s, not 12.3046.../150
        total, unit, done = math.ceil(budget.seconds), "s", int(books.elapsed)
    with progress(total, unit=unit, initial=min(done, total), **options) as bar:
        yield bar


def _advance(bar, budget: Budget | None, books: Books) -> None:
    if budget is None or bar.disable:
        return
    if budget.counts_steps:
        bar.update(max(0, min(books.step, bar.total) - bar.n))
    else:
        bar.update(max(0, min(int(books.elapsed), bar.total) - bar.n))


def resume_state(run_dir: Path | None, differences: Callable[[dict], list[str]], *, start_over: bool,
                 show: bool = True) -> tuple[dict, Path] | None:
    """The newest training state in `run_dir` and its path, when the same job made it; else None.

    Args:
        differences: what makes the saved state another job's (empty: the same job).
        start_over: for another job's state: True keeps its states in `RUN/superseded/` and starts a
            new job (a stylization whose keyframe was repainted); False refuses, naming the differences
            (a meta-learning run of hours, where another job in the folder is a mistake).
    """
    path = latest_training_state(run_dir) if run_dir is not None else None
    if path is None:
        return None
    state = load_training_state(path)
    different = differences(state)
    if not different:
        return state, path
    if not start_over:
        raise UserError(f"{path} was made by another run ({'; '.join(different)}): use the same settings to "
                        "resume it, or a new run folder")
    aside = Path(run_dir) / SUPERSEDED
    shutil.rmtree(aside, ignore_errors=True)  # one earlier job is kept, not every one
    aside.mkdir(parents=True)
    for old in Path(run_dir).glob("training-state-*.pt"):
        old.rename(aside / old.name)
    say(f"note: {run_dir} holds a training of {'; '.join(different)}; starting a new one there (its states "
        f"are kept in {aside})", show)
    return None
