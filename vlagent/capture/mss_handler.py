"""Capture with mss: X11 (XGetImage over xcb), Windows (GDI) and macOS (CoreGraphics)."""

from __future__ import annotations

import time

from PIL import Image

from vlagent.capture.base import Availability, CaptureError, Monitor, Rect, Shot
from vlagent.capture.session import WAYLAND, HEADLESS, Session, detect


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
        import mss
        from mss.exception import ScreenShotError

        t0 = time.perf_counter()
        try:
            with mss.MSS() as sct:
                found = sct.monitors
                whole = found[0]
                raw = sct.grab(whole)
        except ScreenShotError as e:
            raise CaptureError(f"mss could not grab the screen: {e}") from e
        image = Image.frombytes("RGB", raw.size, raw.bgra, "raw", "BGRX")
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
