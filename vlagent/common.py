"""Small helpers every floor of vlagent may import: human-readable sizes and durations,
giving freed memory back to the OS, cancellation, and calling listeners safely.

Nothing here imports another vlagent module or anything heavy (this module is on the path of
``search``, ``show`` and ``status``).
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


# --- formatting -------------------------------------------------------------------------

def human_bytes(n: float | None) -> str:
    """``1536`` → ``"1.5 KB"``; None → ``"-"``."""
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def human_duration(s: float) -> str:
    """``75`` → ``"1m15s"``."""
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


# --- memory -----------------------------------------------------------------------------

def trim_heap() -> None:
    """Give freed heap memory back to the OS: glibc keeps it (after OCR or a model unload the
    arena holds memory nothing uses). A no-op off Linux and on libcs without malloc_trim."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        pass


# --- cancellation -----------------------------------------------------------------------

class Cancelled(Exception):
    """Work stopped early because its :class:`CancelToken` was set."""


class CancelToken:
    """Set from any thread to stop work (a generation stops at the next token)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


# --- listeners --------------------------------------------------------------------------

def call_safely(fn: Callable[..., object], *args: object, what: str = "listener") -> None:
    """Call ``fn(*args)``; an exception is logged (with ``what`` failed) instead of raised, so
    one broken listener or housekeeping task never stops the thread that calls it."""
    try:
        fn(*args)
    except Exception:
        log.exception("%s failed", what)
