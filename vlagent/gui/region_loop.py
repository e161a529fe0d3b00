"""A Qt event loop with nothing but the region overlay, opened on request: what
``vlagent capture --listen`` runs (the hotkey without the desktop app).

The caller wires a trigger (pynput's hotkey listener) to :meth:`RegionLoop.request`, from any
thread, and runs :meth:`RegionLoop.run` on the main thread until Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from vlagent.capture.base import Shot
from vlagent.capture.region import Region
from vlagent.gui.overlay import RegionOnRequest
from vlagent.gui.screens import ensure_qapplication

TICK_MS = 200  # how often Python gets to run its signal handlers while Qt waits


class RegionLoop:
    """The QApplication (kept running with no window open) and the overlay's opener.

    ``on_region(region, shot)`` gets each selection, on the Qt thread; ``on_error(exc)``
    each capture failure. ``choice`` and ``language`` are the capture backend and the
    overlay's language.
    """

    def __init__(self, on_region: Callable[[Region, Shot], Any], *, choice: str = "auto", language: str = "auto",
                 on_error: Callable[[Exception], None] | None = None):
        self.app = ensure_qapplication()
        self.app.setQuitOnLastWindowClosed(False)
        self.opener = RegionOnRequest(on_region, choice=choice, language=language, on_error=on_error)

    def request(self) -> None:
        """Open the overlay (any thread; ignored while one is open)."""
        self.opener.request()

    def run(self) -> int:
        """Serve requests until SIGINT or SIGTERM (Qt's exit status)."""
        from PySide6.QtCore import QTimer

        signal.signal(signal.SIGINT, lambda *_: self.app.quit())
        signal.signal(signal.SIGTERM, lambda *_: self.app.quit())
        ticker = QTimer()  # lets Python run its signal handlers while Qt waits
        ticker.start(TICK_MS)
        ticker.timeout.connect(lambda: None)
        try:
            return self.app.exec()
        finally:
            ticker.stop()
