"""Progress bars and user-facing messages, quiet when asked or when not on rank 0."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm.auto import tqdm

# How messages name options: the CLI's flags while a command runs. Process-wide, not a ContextVar, so
# that the threads a command starts (decoders, the studio's training) speak its words too; one CLI
# command runs in a process.
_wording: list[Callable[[str], str]] = []


@contextmanager
def worded(words: Callable[[str], str]) -> Iterator[None]:
    """Messages `say` writes meanwhile go through `words` (the CLI turns `name` into --flag)."""
    _wording.append(words)
    try:
        yield
    finally:
        _wording.remove(words)


def progress(total=None, desc: str = "", unit: str = "it", enabled: bool = True, **kwargs) -> tqdm:
    """A tqdm bar on stderr showing rate and ETA; a no-op bar when disabled."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, dynamic_ncols=True,
                file=sys.stderr, **kwargs)


def say(message: str, enabled: bool = True) -> None:
    """One line for the user on stderr (stdout stays clean for --json output)."""
    if enabled:
        for words in _wording[-1:]:  # a slice, not an index: another thread may end its wording meanwhile
            message = words(message)
        tqdm.write(message, file=sys.stderr)
