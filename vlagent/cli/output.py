"""Terminal output: JSON, a progress bar with rate and ETA, human-readable sizes and times."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections import deque
from datetime import datetime
from typing import Any, TextIO

from vlagent.common import display_path, display_text, human_bytes, human_duration, json_safe

__all__ = ["Progress", "display_path", "display_text", "human_bytes", "human_duration", "human_time",
           "print_json"]


def print_json(obj: Any, stream: TextIO | None = None) -> None:
    """``obj`` as JSON (UTF-8); file names that are not UTF-8: see :func:`vlagent.common.json_safe`."""
    stream = stream or sys.stdout
    json.dump(json_safe(obj), stream, ensure_ascii=False, indent=2, default=str)
    stream.write("\n")


def human_time(ts: float | None) -> str:
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


class Progress:
    """A one-line progress bar on stderr (redrawn at most 10×/s); silent when not a TTY
    unless ``force``, in which case it prints a plain line every few seconds."""

    RATE_WINDOW_S = 10.0  # bytes mode: the rate (and ETA) follow the last few seconds

    def __init__(self, label: str, total: int | None = None, *, stream: TextIO | None = None,
                 enabled: bool = True, unit: str = "", initial: int = 0):
        self.label = label
        self.total = total
        self.unit = unit  # "B": sizes and rates in bytes; ``initial`` (e.g. resumed bytes) is not rate
        self.done = initial
        self._samples: deque = deque([(time.monotonic(), initial)])
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.enabled = enabled
        self.t0 = time.monotonic()
        self._last_draw = 0.0
        self.note = ""

    def advance(self, n: int = 1, note: str = "") -> None:
        self.done += n
        if self.unit:
            now = time.monotonic()
            self._samples.append((now, self.done))
            while len(self._samples) > 2 and now - self._samples[1][0] > self.RATE_WINDOW_S:
                self._samples.popleft()
        if note:
            self.note = note
        self._draw()

    def set_total(self, total: int) -> None:
        self.total = total

    def rate(self) -> float:
        if self.unit:
            (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
            return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0
        el = time.monotonic() - self.t0
        return self.done / el if el > 0 else 0.0

    def line(self) -> str:
        rate = self.rate()
        if self.total:
            frac = min(self.done / self.total, 1.0)
            width = 24
            bar = "█" * int(frac * width) + "░" * (width - int(frac * width))
            eta = (self.total - self.done) / rate if rate > 0 else 0
            text = f"{self.label} {bar} {self._amount(self.done)}/{self._amount(self.total)} " \
                   f"{self._amount(rate)}/s ETA {human_duration(eta)}"
        else:
            text = f"{self.label} {self._amount(self.done)} {self._amount(rate)}/s"
        if self.note:
            text += f"  {self.note}"
        cols = shutil.get_terminal_size((100, 20)).columns
        return text[: cols - 1]

    def _amount(self, n: float) -> str:
        return human_bytes(n) if self.unit == "B" else (f"{n:.1f}" if isinstance(n, float) else str(n))

    def _draw(self, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if final or now - self._last_draw >= 0.1:
                self.stream.write("\r\x1b[2K" + self.line())
                self.stream.flush()
                self._last_draw = now
        elif final or now - self._last_draw >= 5.0:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self._last_draw = now

    def finish(self) -> None:
        self._draw(final=True)
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
