"""Capture with mss: X11 (XGetImage/XShm over xcb), Windows (GDI) and macOS (CoreGraphics).

The mss connection is kept between grabs (one per display): opening it and setting up the
shared-memory segment cost more than a 4K grab itself, and the hotkey path pays for every
millisecond. A grab that fails on a kept connection is retried once on a fresh one (the X
server may have restarted).
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

from PIL import Image

from vlagent.capture.base import Availability, CaptureError, Monitor, Rect, Shot
from vlagent.capture.session import HEADLESS, WAYLAND, Session, detect

if TYPE_CHECKING:
    from mss import MSS

_connections: dict[str, MSS] = {}  # display name → its mss connection
_lock = threading.Lock()


class MssHandler:
    name = "mss"

    def __init__(self, session: Session | None = None):
        self.session = session or detect()

    def available(self) -> Availability:
        if self.session.kind == WAYLAND:
            return Availability(False, "a Wayland session: mss would only see X clients through XWayland")
        if self.session.kind == HEADLESS:
            return Availability(False, "no display (DISPLAY is not set)")
        return Availability(True)

    def grab(self) -> Shot:
        from mss.exception import ScreenShotError

        t0 = time.perf_counter()
        key = os.environ.get("DISPLAY", "")
        with _lock:
            try:
                found, raw = _grab_all(_connection(key))
            except ScreenShotError:
                _drop(key)
                try:
                    found, raw = _grab_all(_connection(key))
                except ScreenShotError as e:
                    _drop(key)
                    raise CaptureError(f"mss could not grab the screen: {e}") from e
        whole = found[0]
        image = Image.frombuffer("RGB", raw.size, raw.raw, "raw", "BGRX", 0, 1)
        left, top = whole["left"], whole["top"]
        # macOS reports monitors in points but grabs Retina pixels: scale the geometry to the image.
        sx, sy = image.width / whole["width"], image.height / whole["height"]
        monitors = [
            Monitor(i, Rect(round((m["left"] - left) * sx), round((m["top"] - top) * sy),
                            round(m["width"] * sx), round(m["height"] * sy)),
                    name=str(m.get("output") or ""), primary=bool(m.get("is_primary")),
                    scale=sx if sx != 1 else None)
            for i, m in enumerate(found[1:] or [whole], start=1)
        ]
        return Shot(image, monitors, handler=self.name, origin=(left, top), ms=(time.perf_counter() - t0) * 1000)


def _connection(key: str):
    import mss

    sct = _connections.get(key)
    if sct is None:
        sct = _connections[key] = mss.MSS()
    return sct


def _grab_all(sct):
    if hasattr(sct, "_monitors"):
        sct._monitors = None  # mss caches the layout for the connection's life; monitors come and go
    found = sct.monitors
    return found, sct.grab(found[0])


def _drop(key: str) -> None:
    sct = _connections.pop(key, None)
    if sct is not None:
        try:
            sct.close()
        except Exception:  # noqa: BLE001 - the connection is already broken
            pass
