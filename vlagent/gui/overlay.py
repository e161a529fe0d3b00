"""The region-selection overlay: the frozen screenshot full-screen on every monitor; drag a
rectangle to select, Enter or double-click takes the whole screen, Esc (or a right click)
cancels.

Each screen gets its own window showing its part of the Shot at the screen's device pixel
ratio, so one image pixel is one screen pixel. Selections are kept in Qt's logical floats
and mapped to physical pixels only at the end (:func:`vlagent.capture.geometry.to_physical`),
so on a scaled screen the crop is still exact to the pixel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image
from PySide6.QtCore import QEventLoop, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QFont, QFontMetricsF, QGuiApplication, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from vlagent.capture.base import Rect, Shot
from vlagent.capture.geometry import screen_regions, to_physical
from vlagent.capture.region import set_region_selector
from vlagent.gui.screens import ensure_qapplication, native_rect

log = logging.getLogger(__name__)

WINDOW_TITLE = "vlagent capture"
DIM = QColor(0, 0, 0, 120)
BORDER = QColor(0, 162, 255)
LABEL_BG = QColor(20, 20, 20, 220)
LABEL_FG = QColor(255, 255, 255)
MIN_DRAG_PX = 3  # a smaller drag is a click, not a selection
HINTS = {
    "en": "Drag to select  ·  Enter or double-click: whole screen  ·  Esc: cancel",
    "zh": "拖动鼠标选择区域  ·  回车或双击：整个屏幕  ·  Esc：取消",
}


@dataclass
class Region:
    """What the user selected: the crop (physical pixels), where it is in the Shot's image,
    and on which monitor (1-based, in the order of the Shot's regions)."""

    image: Image.Image
    rect: Rect
    monitor: int
    whole_screen: bool = False


def pil_to_pixmap(image: Image.Image) -> QPixmap:
    """Handing Qt packed RGB and letting it widen to its native 32 bits was the fastest way
    measured (4K: ~25 ms, against ~60 ms for PIL packing BGRX itself)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    data = rgb.tobytes()  # alive until fromImage has copied it
    return QPixmap.fromImage(QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888))


class _ScreenWindow(QWidget):
    """One monitor's full-screen window with its frozen image and the rubber band."""

    def __init__(self, overlay: RegionOverlay, screen, monitor: int, region: Rect, frozen: Image.Image,
                 hint: str):
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.Tool)
        self.overlay = overlay
        self.monitor = monitor
        self.region = region
        self.hint = hint
        self.setWindowTitle(WINDOW_TITLE)
        self.setObjectName(f"vlagent-overlay-{monitor}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMouseTracking(True)
        self.setScreen(screen)
        self.setGeometry(screen.geometry())
        self.pixmap = pil_to_pixmap(frozen)
        # Tell Qt how many image pixels make one logical pixel here, so drawing maps 1:1.
        self.pixmap.setDevicePixelRatio(region.width / max(screen.geometry().width(), 1))
        self.dimmed: QPixmap | None = None  # made after the first paint, so it doesn't delay it
        self.start: QPointF | None = None
        self.end: QPointF | None = None
        self._dirty = QRectF()

    # --- geometry -------------------------------------------------------------------------
    def selection_logical(self) -> QRectF | None:
        if self.start is None or self.end is None:
            return None
        return QRectF(self.start, self.end).normalized()

    def selection_physical(self) -> Rect | None:
        if self.start is None or self.end is None:
            return None
        return to_physical(self.start.x(), self.start.y(), self.end.x(), self.end.y(),
                           (self.width(), self.height()), self.region)

    # --- input ----------------------------------------------------------------------------
    def mousePressEvent(self, e):
        if e.button() == Qt.MouseButton.RightButton:
            if self.start is not None:
                self.start = self.end = None
                self.update()
            else:
                self.overlay.finish(None)
            return
        if e.button() == Qt.MouseButton.LeftButton:
            self.overlay.clear_selections()
            self.start = self.end = e.position()
            self.update()

    def mouseMoveEvent(self, e):
        if self.start is not None and e.buttons() & Qt.MouseButton.LeftButton:
            self.end = e.position()
            self._update_selection()

    def _update_selection(self) -> None:
        """Repaint only what the selection and its label covered before and cover now."""
        sel = self.selection_logical()
        now = QRectF() if sel is None else sel.united(self.label_box(sel, 200, 40)).adjusted(-3, -3, 3, 3)
        self.update(self._dirty.united(now).toAlignedRect())
        self._dirty = now

    def mouseReleaseEvent(self, e):
        if e.button() != Qt.MouseButton.LeftButton or self.start is None:
            return
        self.end = e.position()
        rect = self.selection_physical()
        if rect is None or rect.width < MIN_DRAG_PX or rect.height < MIN_DRAG_PX:
            self.start = self.end = None  # a click: wait for a double-click or a drag
            self.update()
            return
        self.overlay.finish_with(self, rect)

    def mouseDoubleClickEvent(self, e):
        if e.button() == Qt.MouseButton.LeftButton:
            self.overlay.finish_with(self, self.region, whole=True)

    def keyPressEvent(self, e):
        self.overlay.key(e.key())

    # --- drawing --------------------------------------------------------------------------
    def paintEvent(self, _event):
        p = QPainter(self)
        if self.dimmed is not None:
            p.drawPixmap(QRectF(self.rect()), self.dimmed, QRectF(self.dimmed.rect()))
        else:
            p.drawPixmap(QRectF(self.rect()), self.pixmap, QRectF(self.pixmap.rect()))
            p.fillRect(QRectF(self.rect()), DIM)
            QTimer.singleShot(0, self, self._make_dimmed)
        sel = self.selection_logical()
        if sel is not None and sel.width() > 0 and sel.height() > 0:
            ratio = self.pixmap.devicePixelRatio()
            src = QRectF(sel.x() * ratio, sel.y() * ratio, sel.width() * ratio, sel.height() * ratio)
            p.drawPixmap(sel, self.pixmap, src)
            pen = QPen(BORDER)
            pen.setCosmetic(True)
            pen.setWidthF(1.0)
            p.setPen(pen)
            p.drawRect(sel.adjusted(-0.5, -0.5, 0.5, 0.5))
            phys = self.selection_physical()
            if phys is not None:  # it is, with a selection
                self._label(p, f"{phys.width} × {phys.height}", sel)
        elif self.hint and self.start is None:  # gone once a drag starts (drags repaint only their area)
            self._banner(p, self.hint)
        p.end()
        self.overlay.painted(self)

    def _make_dimmed(self) -> None:
        """The dimmed screen as one pixmap: a drag then repaints with a plain blit (4K screens)."""
        if self.dimmed is None:
            dimmed = QPixmap(self.pixmap)
            painter = QPainter(dimmed)
            painter.fillRect(QRectF(0, 0, dimmed.width(), dimmed.height()), DIM)
            painter.end()
            self.dimmed = dimmed

    def _label(self, p: QPainter, text: str, sel: QRectF) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), 11.0))
        p.setFont(font)
        fm = QFontMetricsF(font)
        box = self.label_box(sel, fm.horizontalAdvance(text) + 12, fm.height() + 6)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(LABEL_BG)
        p.drawRoundedRect(box, 4, 4)
        p.setPen(LABEL_FG)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def label_box(self, sel: QRectF, w: float, h: float) -> QRectF:
        """Where the size label goes: above the selection's top-left corner; inside its top
        when there is no room above (or below it when it is too thin), always on screen."""
        x = min(max(sel.left(), 0.0), max(self.width() - w, 0.0))
        y = sel.top() - h - 4
        if y < 0:
            y = sel.top() + 4 if sel.height() > h + 8 else sel.bottom() + 4
        return QRectF(x, min(max(y, 0.0), max(self.height() - h, 0.0)), w, h)

    def _banner(self, p: QPainter, text: str) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), 10.0) * 1.2)
        p.setFont(font)
        fm = QFontMetricsF(font)
        w, h = min(fm.horizontalAdvance(text) + 32, self.width() - 16), fm.height() + 16
        box = QRectF((self.width() - w) / 2, 24, w, h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(LABEL_BG)
        p.drawRoundedRect(box, 8, 8)
        p.setPen(LABEL_FG)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class RegionOverlay(QObject):
    """The windows of one selection; ``finished`` carries the Region or None."""

    finished = Signal(object)
    shown = Signal(float)  # time.perf_counter() of the first completed paint

    def __init__(self, shot: Shot, *, language: str = "auto"):
        super().__init__()
        self.shot = shot
        self.result: Region | None = None
        self.done = False
        self._shown = False
        self._painted: set[int] = set()  # ids of the windows painted at least once
        hint = HINTS["zh" if _language(language) == "zh" else "en"]
        screens = QGuiApplication.screens()
        regions = screen_regions(shot, [native_rect(s) for s in screens])
        self.windows = [
            _ScreenWindow(self, screen, _monitor_number(shot, region, i), region, _part(shot, region), hint)
            for i, (screen, region) in enumerate(zip(screens, regions), start=1)
        ]

    def show(self) -> None:
        for w in self.windows:
            w.showFullScreen()
        active = self.window_under_cursor() or self.windows[0]
        active.raise_()
        active.activateWindow()
        active.grabKeyboard()  # Esc and Enter must reach us whatever had the focus

    def window_under_cursor(self) -> _ScreenWindow | None:
        screen = QGuiApplication.screenAt(QCursor.pos())
        return next((w for w in self.windows if w.screen() == screen), None)

    def clear_selections(self) -> None:
        for w in self.windows:
            if w.start is not None:
                w.start = w.end = None
                w.update()

    def key(self, key: int) -> None:
        if key == Qt.Key.Key_Escape:
            self.finish(None)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            w = self.window_under_cursor() or self.windows[0]
            self.finish_with(w, w.region, whole=True)

    def finish_with(self, window: _ScreenWindow, rect: Rect, *, whole: bool = False) -> None:
        self.finish(Region(self.shot.crop(rect), rect, window.monitor, whole_screen=whole))

    def finish(self, region: Region | None) -> None:
        if self.done:
            return
        self.done = True
        self.result = region
        for w in self.windows:
            w.releaseKeyboard()
            w.close()
        self.windows = []
        self.finished.emit(region)

    def painted(self, window: _ScreenWindow) -> None:
        if not self._shown:
            self._shown = True
            self.shown.emit(time.perf_counter())
        if id(window) not in self._painted:
            self._painted.add(id(window))
            if len(self._painted) == len(self.windows):  # what tests driving it wait for
                log.debug("region overlay painted on every screen")


def select_region(shot: Shot, *, language: str = "auto",
                  on_shown: Callable[[float], None] | None = None) -> Region | None:
    """Show the overlay over ``shot`` and wait for the user; returns the Region or None."""
    ensure_qapplication()
    overlay = RegionOverlay(shot, language=language)
    loop = QEventLoop()
    overlay.finished.connect(lambda _r: loop.quit())
    if on_shown is not None:
        overlay.shown.connect(on_shown)
    overlay.show()
    if not overlay.done:
        loop.exec()
    return overlay.result


def _monitor_number(shot: Shot, region: Rect, fallback: int) -> int:
    """The Shot's number for the monitor a window shows (Qt may list screens in another order)."""
    return next((m.index for m in shot.monitors if m.rect == region), fallback)


def _part(shot: Shot, region: Rect) -> Image.Image:
    return shot.image if region == Rect(0, 0, *shot.image.size) else shot.crop(region)  # one monitor: no copy


def _language(setting: str) -> str:
    if setting in ("en", "zh"):
        return setting
    from PySide6.QtCore import QLocale

    return "zh" if QLocale.system().language() == QLocale.Language.Chinese else "en"


class RegionOnRequest(QObject):
    """Opens the overlay whenever :meth:`request` is called, from any thread (the hotkey
    listener calls it from pynput's). Capturing and showing happen in the Qt thread; a
    request while an overlay is open is ignored. ``on_region(region, shot)`` gets each
    selection (not cancellations); ``on_error(exc)`` gets capture failures."""

    _requested = Signal()
    shown = Signal(float)

    def __init__(self, on_region: Callable, *, choice: str = "auto", language: str = "auto",
                 on_error: Callable[[Exception], None] | None = None):
        super().__init__()
        self.on_region = on_region
        self.on_error = on_error
        self.choice = choice
        self.language = language
        self.overlay: RegionOverlay | None = None
        self._requested.connect(self._open, Qt.ConnectionType.QueuedConnection)

    def request(self) -> None:
        self._requested.emit()

    def _open(self) -> None:
        from vlagent.capture import CaptureError, capture

        if self.overlay is not None:
            return
        try:
            shot = capture(choice=self.choice)
        except CaptureError as e:
            if self.on_error:
                self.on_error(e)
            return
        self.overlay = RegionOverlay(shot, language=self.language)
        self.overlay.shown.connect(self.shown)
        self.overlay.finished.connect(lambda region: self._done(region, shot))
        self.overlay.show()

    def _done(self, region: Region | None, shot: Shot) -> None:
        self.overlay = None
        if region is not None:
            self.on_region(region, shot)


set_region_selector(select_region)  # this process shows the overlay for vlagent.capture.region
