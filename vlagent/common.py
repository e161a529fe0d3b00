"""Small helpers every floor of vlagent may import: human-readable sizes and durations,
giving freed memory back to the OS, cancellation, calling listeners safely, and showing file
names safely (:func:`display_path`, :func:`json_safe`).

Nothing here imports another vlagent module or anything heavy (this module is on the path of
``search``, ``show`` and ``status``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import sys
import threading
import time
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


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
_reusing = False


def reuse_freed_memory() -> bool:
    """Let glibc keep big freed blocks (up to 1 GiB) for the next allocation instead of
    unmapping each at once. A model's forward pass allocates and frees tensors of tens of MB
    layer after layer; fresh mapped memory comes from the kernel a page at a time, zeroed,
    which made an element-wise op on such a tensor ~5x slower than on reused memory (on the
    reference CPU). Freed memory then stays in the process until :func:`trim_heap`, which
    the model engine calls after each call. Once per process; False off Linux/glibc."""
    global _reusing
    if _reusing:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(1 << 30)) == 1
        ok = ok and libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(2**31 - 1)) == 1
    except (OSError, AttributeError):  # not glibc
        return False
    _reusing = ok
    return ok


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

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled (True) or ``timeout`` seconds passed (False)."""
        return self._event.wait(timeout)


# --- listeners --------------------------------------------------------------------------

def call_safely(fn: Callable[..., object], *args: object, what: str = "listener") -> None:
    """Call ``fn(*args)``; an exception is logged (with ``what`` failed) instead of raised, so
    one broken listener or housekeeping task never stops the thread that calls it."""
    try:
        fn(*args)
    except Exception:
        log.exception("%s failed", what)


# --- file names on screen and in JSON ----------------------------------------------------
# A file name may hold any byte but "/" and NUL: terminal escapes (ESC ] 0; … BEL sets the title),
# line breaks (a forged report line), bidi controls, bytes that are not UTF-8 (lone surrogates
# U+DC80…U+DCFF in Python, see os.fsdecode).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    if 0xDC80 <= c <= 0xDCFF:  # a byte that is not UTF-8, as os.fsdecode gives it
        return f"\\x{c - 0xDC00:02x}"
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def display_text(text: str) -> str:
    """``text`` safe to print on a terminal or a label, on one line, as ``ls`` shows names:
    control characters (escapes, line breaks, tabs), bidi controls and bytes that are not
    UTF-8 become ``\\xNN`` (``\\uNNNN`` above U+00FF); everything else (CJK, spaces…) stays."""
    if text.isprintable():  # False for everything _UNSAFE matches
        return text
    return _UNSAFE.sub(_escape, text)


def display_path(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    """A file path for people: :func:`display_text` of its name (bytes decoded as the file
    system does). Every human-readable printer of a path uses it; ``--json`` keeps exact values."""
    return display_text(os.fsdecode(path))


def raw_bytes(text: str) -> bytes:
    """The exact bytes of a file name that ``os.fsdecode`` gave (lone surrogates back to bytes)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no undecodable byte gives
        return text.encode("utf-8", "surrogatepass")


def _lossless(value: object) -> object:
    """The base64 of the exact bytes of ``value`` (or of each string of a list) when a string
    in it is not valid Unicode; else None."""
    import base64

    def b64(s: str) -> str:
        return base64.b64encode(raw_bytes(s)).decode("ascii")

    if isinstance(value, str):
        return b64(value) if _SURROGATE.search(value) else None
    if isinstance(value, (list, tuple)) and any(isinstance(v, str) and _SURROGATE.search(v) for v in value):
        return [b64(v) if isinstance(v, str) else None for v in value]
    return None


def json_safe(obj: object) -> object:
    """``obj`` ready for JSON in UTF-8. A string that is not valid Unicode (a file name whose
    bytes are not UTF-8) is written with those bytes as ``\\xNN``; the object holding it gets
    ``<key>_b64`` beside it: the base64 of the exact bytes (a list for a list of names). Every
    other value is kept exactly (JSON escapes control characters itself)."""
    if isinstance(obj, str):
        return _SURROGATE.sub(_escape, obj) if _SURROGATE.search(obj) else obj
    if isinstance(obj, dict):
        out: dict[object, object] = {}
        for key, value in obj.items():
            key = json_safe(key)
            out[key] = json_safe(value)
            exact = _lossless(value)
            if exact is not None:
                out[f"{key}_b64"] = exact
        return out
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return json_safe(os.fspath(obj))
    return obj


# --- dates given on a command line or by a tool ------------------------------------------

SPAN_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


def parse_when(text: str | None) -> float | None:
    """``YYYY-MM-DD``, ``YYYY-MM-DD[T ]HH:MM[:SS]`` (local time) or a span back from now
    (``30m``, ``12h``, ``7d``, ``2w``) → epoch seconds; None for nothing; ValueError otherwise."""
    from datetime import datetime

    if text is None or not text.strip():
        return None
    t = text.strip()
    unit = SPAN_UNITS.get(t[-1:].lower())
    if unit and t[:-1].isdigit():
        return time.time() - int(t[:-1]) * unit
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(t, fmt).timestamp()
        except ValueError:
            pass
    raise ValueError(f"cannot read the date {t!r}")
