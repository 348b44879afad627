"""Memory a closed page freed, given back to the system."""

import gc
import sys


def give_back_memory() -> None:
    """Return freed memory to the system: glibc keeps what each training thread's malloc arena
    freed, so a closed page's hundreds of MB would stay with the server. Linux (glibc) only."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # another C library
            pass
