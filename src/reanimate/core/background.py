"""Work on another thread beside the main loop: read ahead, write behind.

Rendering spends its time in the network; decoding and building the next input, and encoding or
saving the last output, run meanwhile on these threads (PyAV, OpenCV, NumPy and PyTorch release
the GIL in their heavy parts). Errors surface in the main loop, and stopping early stops the thread.
"""

import queue
import threading
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
_DONE = object()
_POLL = 0.1  # seconds between checks whether the other side has gone


def read_ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate `items` on a background thread, at most `depth` items ahead of the consumer.

    An exception in `items` is raised here, at the item where it happened. Closing this iterator
    early (break, an exception in the loop) stops the producer at its next item.
    """
    ready: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(ready, (item, None), stop):
                    return
            _put(ready, (_DONE, None), stop)
        except BaseException as exc:  # handed to the consumer, raised there
            _put(ready, (_DONE, exc), stop)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator stopped early releases what it holds (an open decoder) now

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    """Put `item`, waiting for room, unless `stop` is set; True if it was put."""
    while not stop.is_set():
        try:
            q.put(item, timeout=_POLL)
            return True
        except queue.Full:
            continue
    return False


class WriteBehind:
    """Runs calls in order on one background thread, at most `depth` waiting.

    `submit(fn, *args)` returns at once; `close()` (or leaving the `with` block) waits for every
    call and raises the first error. After an error, later calls are skipped and the next
    `submit` raises it, so a failing write (a full disk) stops the loop that feeds it. Leaving the
    block by an exception skips the queued calls and waits for the running one, so the caller's
    cleanup (removing a half-written file) never runs beside a write.

    Example:
        >>> with WriteBehind() as behind:
        ...     for frame in frames:
        ...         behind.submit(writer.write, frame)
    """

    def __init__(self, depth: int = 4):
        self._calls: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None  # the first failure; later calls are skipped
        self._raised = False
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            call = self._calls.get()
            if call is None:
                return
            if self._error is None and not self._cancelled:
                fn, args = call
                try:
                    fn(*args)
                except BaseException as exc:
                    self._error = exc

    def submit(self, fn: Callable, *args) -> None:
        self._raise_once()
        self._calls.put((fn, args))

    def close(self) -> None:
        """Wait for every queued call; raise the first error."""
        self._stop()
        self._raise_once()

    def cancel(self) -> None:
        """Skip the calls still queued, and wait for the one running: nothing runs after this."""
        self._cancelled = True
        self._stop()

    def _stop(self) -> None:
        interrupted = None
        if self._thread.is_alive():
            self._calls.put(None)
        while self._thread.is_alive():
            try:
                self._thread.join()
            except KeyboardInterrupt as exc:  # a second Ctrl-C: skip the rest, but still wait, so the
                self._cancelled, interrupted = True, exc  # caller never cleans up under a running call
        if interrupted is not None:
            raise interrupted

    def _raise_once(self) -> None:
        if self._error is not None and not self._raised:
            self._raised = True
            raise self._error

    def __enter__(self) -> "WriteBehind":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
            return
        # Already failing: the queued calls are not wanted (their output is about to be discarded),
        # and the caller's cleanup must not run beside one of them. Their error would hide this one.
        self.cancel()
