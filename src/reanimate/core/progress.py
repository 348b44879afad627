"""Progress bars and user-facing messages, quiet when asked or when not on rank 0."""

import sys

from tqdm.auto import tqdm


def progress(total=None, desc: str = "", unit: str = "it", enabled: bool = True, **kwargs) -> tqdm:
    """A tqdm bar on stderr showing rate and ETA; a no-op bar when disabled."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, dynamic_ncols=True,
                file=sys.stderr, **kwargs)


def say(message: str, enabled: bool = True) -> None:
    """One line for the user on stderr (stdout stays clean for --json output)."""
    if enabled:
        tqdm.write(message, file=sys.stderr)
