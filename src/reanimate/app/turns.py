"""The pages' trainings take turns on the cores (`TrainingTurns`, one per server: `TURNS`), and
`TurnTaking` is how a studio training paces `core.run.train_loop` by them."""

import collections
import contextlib
import os
import threading
import time
from typing import Callable, Iterator

from reanimate.core.run import Pacing

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

    def action_waiting(self) -> bool:
        """A page action waits for its answer: the training in its turn stops after the current step."""
        return self._actions > 0

    @contextlib.contextmanager
    def turn(self, give_up) -> Iterator[bool]:
        """Wait for a turn; yields False (without one) as soon as `give_up()` is true (stop, pause)."""
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
            while self._busy >= self.slots or self._waiting[0] is not ticket or self.action_waiting():
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


class TurnTaking(Pacing):
    """A studio training's pace: it steps in its turns of TURN_SECONDS, waits while paused, and ends
    when `stopped()` says so.

    Args:
        stopped: True ends the training (Stop, a new video, the page gone).
        running: cleared while paused.
        interrupted: True ends the current turn early (a new keyframe to swap in).
        before_turn: called before each turn is asked for (the keyframes are swapped in there).
    """

    def __init__(self, stopped: Callable[[], bool], running: threading.Event, interrupted: Callable[[], bool],
                 before_turn: Callable[[], None], turns: TrainingTurns = TURNS):
        self.stopped, self.running, self.interrupted, self.before_turn = stopped, running, interrupted, before_turn
        self.turns = turns
        self._turn_ends = 0.0

    def stop(self) -> bool:
        return self.stopped()

    @contextlib.contextmanager
    def turn(self) -> Iterator[bool]:
        if not self.running.is_set():  # paused: look again in a second (for Stop, or the page gone)
            self.running.wait(timeout=1.0)
            yield False
            return
        self.before_turn()
        with self.turns.turn(give_up=lambda: self.stopped() or not self.running.is_set()) as granted:
            self._turn_ends = time.monotonic() + TURN_SECONDS
            yield granted

    def more(self) -> bool:
        return (time.monotonic() < self._turn_ends and self.running.is_set() and not self.stopped()
                and not self.turns.action_waiting() and not self.interrupted())
