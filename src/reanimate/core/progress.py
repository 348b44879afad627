"""Progress bars and user-facing messages, quiet when asked or when not on rank 0."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm.auto import tqdm

_wording: list[Callable[[str], str]] = []  # how messages name options: the CLI's flags while a command runs


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
        tqdm.write(_wording[-1](message) if _wording else message, file=sys.stderr)
