"""Qt's view of the screens: the one QApplication, each screen's rectangle in physical
pixels, and the capture handler that grabs screens through Qt (``QScreen.grabWindow``)."""

from __future__ import annotations

import sys
import time

from PIL import Image

from vlagent.capture.base import Availability, CaptureError, Monitor, Rect, Shot
from vlagent.capture.chain import register_handler
from vlagent.capture.session import HEADLESS, WAYLAND, Session, detect

NO_SCREEN_PLATFORMS = ("offscreen", "minimal")


def ensure_qapplication():
    """The running QApplication, or a new one (widgets are needed for the overlay, so a
    plain QGuiApplication is never created here)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1] or ["vlagent"])
        app.setApplicationName("vlagent")
    return app


def native_rect(screen) -> Rect:
    """A screen's rectangle in physical pixels. Qt keeps a screen's native top-left as its
    logical top-left and divides only the size by the device pixel ratio."""
    g, dpr = screen.geometry(), screen.devicePixelRatio()
    return Rect(g.x(), g.y(), round(g.width() * dpr), round(g.height() * dpr))


def qimage_to_pil(qimage) -> Image.Image:
    from PySide6.QtGui import QImage

    img = qimage.convertToFormat(QImage.Format.Format_RGB32)  # 0xffRRGGBB words: B,G,R,X bytes
    return Image.frombuffer("RGB", (img.width(), img.height()), bytes(img.constBits()), "raw", "BGRX",
                            img.bytesPerLine(), 1).copy()


class QtHandler:
    name = "qt"

    def __init__(self, session: Session | None = None):
        self.session = session or detect()

    def available(self) -> Availability:
        if self.session.kind == WAYLAND:
            return Availability(False, "Qt cannot grab the screen on Wayland")
        if self.session.kind == HEADLESS:
            return Availability(False, "no display (DISPLAY is not set)")
        try:
            from PySide6.QtGui import QGuiApplication
        except ImportError as e:
            return Availability(False, f"PySide6 cannot be imported ({e})")
        app = QGuiApplication.instance()
        if app is not None and QGuiApplication.platformName() in NO_SCREEN_PLATFORMS:
            return Availability(False, f"Qt runs on the {QGuiApplication.platformName()!r} platform: "
                                       "no real screen")
        return Availability(True)

    def grab(self) -> Shot:
        t0 = time.perf_counter()
        app = ensure_qapplication()
        primary = app.primaryScreen()
        parts = []
        for screen in app.screens():
            pixmap = screen.grabWindow(0)
            if pixmap.isNull():
                raise CaptureError(f"Qt returned no image for screen {screen.name()!r}")
            image = qimage_to_pil(pixmap.toImage())
            r = native_rect(screen)
            parts.append((screen, Rect(r.x, r.y, image.width, image.height), image))
        if not parts:
            raise CaptureError("Qt reports no screens")
        left = min(r.x for _, r, _ in parts)
        top = min(r.y for _, r, _ in parts)
        width = max(r.right for _, r, _ in parts) - left
        height = max(r.bottom for _, r, _ in parts) - top
        whole = Image.new("RGB", (width, height))
        monitors = []
        for i, (screen, r, image) in enumerate(parts, start=1):
            whole.paste(image, (r.x - left, r.y - top))
            monitors.append(Monitor(i, Rect(r.x - left, r.y - top, r.width, r.height), name=screen.name(),
                                    primary=screen == primary, scale=screen.devicePixelRatio()))
        return Shot(whole, monitors, handler=self.name, origin=(left, top), ms=(time.perf_counter() - t0) * 1000)


register_handler("qt", QtHandler)  # the capture chain's Qt grabber lives here, with the rest of Qt
