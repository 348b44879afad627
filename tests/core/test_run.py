"""The one training loop (core.run): budgets, the bar, periodic work, the last save and the resume policy."""

import dataclasses
import time

import pytest

from reanimate.core.checkpoint import latest_training_state, save_training_state
from reanimate.core.errors import UserError
from reanimate.core.run import SUPERSEDED, Budget, Every, resume_state, train_loop


@dataclasses.dataclass
class Books:
    step: int = 0
    elapsed: float = 0.0


def counting(books: Books, pause: float = 0.0, fail_at: int | None = None, error=FloatingPointError):
    def step() -> dict:
        if fail_at is not None and books.step == fail_at:
            raise error("the loss became nan")
        time.sleep(pause)
        books.step += 1
        return {"loss": 1.0 / books.step}
    return step


def test_a_step_budget_counts_the_whole_job_and_returns_the_last_losses():
    books = Books(step=3)  # resumed at step 3 of 10
    losses = train_loop(counting(books), books, Budget(steps=10))
    assert books.step == 10 and losses == {"loss": 0.1}


def test_a_seconds_budget_with_the_callers_unit_shows_whole_seconds(capsys):
    # The seconds bar once got `unit` twice (the caller's and its own "s"): a TypeError at the first step.
    books = Books()
    train_loop(counting(books, pause=0.01), books, Budget(seconds=0.2),
               bar={"desc": "fine-tuning", "unit": "step", "enabled": True})
    assert 0.2 <= books.elapsed < 1.0 and books.step >= 5
    shown = capsys.readouterr().err
    assert "fine-tuning" in shown and "/1 [" in shown and "s/s" in shown  # 0/1 s rounded up, not 0.2


def test_no_bar_shows_nothing(capsys):
    books = Books()
    train_loop(counting(books), books, Budget(steps=4), bar=None)
    train_loop(counting(books), books, Budget(steps=8), bar={"desc": "quiet", "enabled": False})
    assert books.step == 8 and capsys.readouterr().err == ""


def test_step_periods_fall_on_multiples_so_a_resumed_run_logs_at_the_same_steps():
    books, seen = Books(step=7), []
    train_loop(counting(books), books, Budget(steps=20),
               every=(Every(lambda _: seen.append(books.step), steps=5, at_end=True),))
    assert seen == [10, 15, 20]


def test_the_last_save_comes_only_with_unsaved_steps():
    books, saves = Books(), []
    every = (Every(lambda _: saves.append(("checkpoint", books.step)), steps=5, saves=True),)
    train_loop(counting(books), books, Budget(steps=10), every=every, save=lambda: saves.append(("last", books.step)))
    assert saves == [("checkpoint", 5), ("checkpoint", 10)]
    train_loop(counting(books), books, Budget(steps=12), every=every, save=lambda: saves.append(("last", books.step)))
    assert saves[-1] == ("last", 12)


@pytest.mark.parametrize("after_error", [True, False])
def test_an_interrupt_always_saves_and_an_error_saves_where_the_caller_says(after_error):
    for error, saved in ((KeyboardInterrupt, True), (FloatingPointError, after_error)):
        books, saves = Books(), []
        with pytest.raises(error):
            train_loop(counting(books, fail_at=3, error=error), books, Budget(steps=10),
                       save=lambda: saves.append(books.step), save_after_error=after_error)
        assert saves == ([3] if saved else []), error


def test_a_budget_names_the_callers_parameters():
    with pytest.raises(UserError, match="give a training budget: `iterations` N or `seconds` S"):
        Budget.one_of(None, None)
    with pytest.raises(UserError, match="`steps` N or `finetune_seconds` S, not both"):
        Budget.one_of(5, 2.0, names=("steps", "finetune_seconds"))
    with pytest.raises(UserError, match="must not be negative"):
        Budget(steps=-1)
    assert Budget.one_of(None, 3.0) == Budget(seconds=3.0)


def test_another_jobs_states_are_moved_aside_or_refused(tmp_path):
    save_training_state(tmp_path, 4, {"job": "a"})
    other = lambda state: [] if state["job"] == "b" else ["other keyframes"]  # noqa: E731
    with pytest.raises(UserError, match="made by another run .other keyframes."):
        resume_state(tmp_path, other, start_over=False, show=False)
    assert latest_training_state(tmp_path) is not None  # refusing touches nothing
    assert resume_state(tmp_path, other, start_over=True, show=False) is None
    assert latest_training_state(tmp_path) is None
    assert [p.name for p in (tmp_path / SUPERSEDED).iterdir()] == ["training-state-0000004.pt"]
    save_training_state(tmp_path, 2, {"job": "b"})
    state, path = resume_state(tmp_path, other, start_over=True, show=False)
    assert state["job"] == "b" and path.parent == tmp_path
