import threading
import time

import pytest

from reanimate.core.background import WriteBehind, read_ahead


def test_read_ahead_yields_every_item_in_order():
    assert list(read_ahead(iter(range(50)), depth=3)) == list(range(50))


def test_read_ahead_runs_the_producer_on_another_thread_and_raises_its_error_in_place():
    threads = []

    def items():
        for i in range(3):
            threads.append(threading.current_thread())
            yield i
        raise OSError("the disk went away")

    seen = []
    with pytest.raises(OSError, match="disk went away"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [0, 1, 2]
    assert threads and all(t is not threading.current_thread() for t in threads)


def test_stopping_early_stops_the_producer():
    produced = []

    def items():
        for i in range(10_000):
            produced.append(i)
            yield i

    for item in read_ahead(items(), depth=2):
        if item == 5:
            break
    time.sleep(0.3)
    assert len(produced) < 12  # at most depth items ahead, then it stopped


def test_write_behind_runs_calls_in_order_and_waits_for_them():
    done = []
    with WriteBehind(depth=2) as behind:
        for i in range(20):
            behind.submit(lambda i: (time.sleep(0.001), done.append(i)), i)
    assert done == list(range(20))


def test_a_failing_write_stops_the_loop_and_later_writes_are_skipped():
    done = []

    def write(i):
        if i == 3:
            raise OSError(28, "No space left on device")
        done.append(i)

    with pytest.raises(OSError, match="No space"):
        with WriteBehind(depth=1) as behind:
            for i in range(100):
                behind.submit(write, i)
                time.sleep(0.002)
    assert done == [0, 1, 2]


def test_an_error_in_the_loop_is_not_hidden_by_the_writes():
    with pytest.raises(KeyError):
        with WriteBehind() as behind:
            behind.submit(lambda: None)
            raise KeyError("from the loop")


def test_leaving_by_an_exception_skips_the_queued_calls_and_waits_for_the_running_one():
    done = []

    def slow(i):
        time.sleep(0.05)
        done.append(i)

    with pytest.raises(KeyboardInterrupt):
        with WriteBehind(depth=8) as behind:
            for i in range(8):
                behind.submit(slow, i)
            raise KeyboardInterrupt
    settled = list(done)
    time.sleep(0.2)
    assert done == settled and len(done) <= 2  # nothing ran after the block was left


def test_a_producer_stopped_early_is_closed():
    closed = threading.Event()

    def items():
        try:
            yield from range(1000)
        finally:
            closed.set()

    for item in read_ahead(items(), depth=1):
        break
    assert closed.wait(2)
