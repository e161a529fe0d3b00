"""Fixtures for capture tests: a window with known pixels on an X display, a second X server
split into two monitors."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.capture.pattern_window import pattern_image

PATTERN_SCRIPT = Path(__file__).with_name("pattern_window.py")
PATTERN_SIZE = (800, 400)
# Two monitors side by side, of different sizes, on one 3200x1080 X screen.
TWO_MONITORS = [(0, 0, 1920, 1080), (1920, 0, 1280, 1024)]


@contextmanager
def pattern_window(display: str, x: int, y: int):
    """Show the pattern frameless at (x, y) on ``display``; yields the expected image."""
    from tests.xvfb import XServer

    env = XServer(display, None, 0, 0).env()  # type: ignore[arg-type]
    proc = subprocess.Popen([sys.executable, str(PATTERN_SCRIPT), str(x), str(y)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.kill()
            raise RuntimeError(f"pattern window did not start: {line!r} {proc.stderr.read()}")
        yield pattern_image(*PATTERN_SIZE)
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.fixture(scope="session")
def pattern():
    return pattern_image(*PATTERN_SIZE)


@pytest.fixture(scope="module")
def shown_pattern(xvfb_display):
    """The pattern at (100, 80) on the shared Xvfb for a whole test module."""
    with pattern_window(xvfb_display, 100, 80) as img:
        yield (100, 80, img)


@pytest.fixture(scope="session")
def two_monitor_display():
    from tests.xvfb import start_xvfb, xvfb_missing

    if xvfb_missing():
        pytest.skip("Xvfb is not installed")
    server = start_xvfb(3200, 1080, monitors=TWO_MONITORS)
    yield server.display
    server.stop()


@pytest.fixture
def on_display(monkeypatch):
    """Point this process at an X display, as an X11 session would be."""

    def _set(display: str) -> None:
        monkeypatch.setenv("DISPLAY", display)
        monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    return _set


def same_pixels(a, b) -> bool:
    from PIL import ImageChops

    return a.size == b.size and ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None
