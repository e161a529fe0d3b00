"""A zoomable image view with the image's text on it.

It fits the pane until the user zooms (wheel, +/-); double-click toggles between fit and
100 %; a message replaces the image while loading or when the file is gone. The OCR lines
are drawn over the image where they were read: click a line to copy it, drag across lines
to copy several (in reading order), Ctrl+A selects every line, Ctrl+C copies again. The
current search's words are highlighted where they stand in the image. A drag that starts
off the text moves the image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QKeySequence,
    QPainter,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QApplication, QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

from vlagent.index.query import parse
from vlagent.index.segment import normalize

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.05, 16.0
LINE_PEN = QColor(37, 99, 235, 110)
LINE_FILL = QColor(37, 99, 235, 14)
HOVER_FILL = QColor(37, 99, 235, 45)
SELECTED_FILL = QColor(37, 99, 235, 95)
HIT_FILL = QColor(255, 214, 10, 150)  # the result list's snippet highlight, see through


@dataclass
class TextLine:
    text: str
    polygon: QPolygonF  # in scene coordinates: the shown pixmap's pixels
    rect: QRectF


def highlight_terms(query: str) -> list[str]:
    """The words of a search query to find in an image's lines (normalised as the index does)."""
    q = parse(query or "")
    terms: list[str] = []
    for unit in q.units:
        for text, _cjk in unit.pieces:
            if text and text not in terms:
                terms.append(text)
    return terms


def _lerp(a: QPointF, b: QPointF, f: float) -> QPointF:
    return QPointF(a.x() + (b.x() - a.x()) * f, a.y() + (b.y() - a.y()) * f)


def _span(line: TextLine, start: int, end: int) -> QPolygonF:
    """The part of the line's box holding characters ``start``..``end``: where they would fall
    were the line set in the UI's font (near enough for the fonts text on screens is set in)."""
    fm = QFontMetricsF(QGuiApplication.font())
    total = fm.horizontalAdvance(line.text)
    if total <= 0:
        return QPolygonF(line.polygon)
    f0, f1 = fm.horizontalAdvance(line.text[:start]) / total, fm.horizontalAdvance(line.text[:end]) / total
    p = [line.polygon.at(k) for k in range(4)]  # top-left, top-right, bottom-right, bottom-left
    return QPolygonF([_lerp(p[0], p[1], f0), _lerp(p[0], p[1], f1), _lerp(p[3], p[2], f1), _lerp(p[3], p[2], f0)])


class ImageView(QGraphicsView):
    copied = Signal(str, int)  # the text put on the clipboard, how many lines it holds

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(160)
        self.setAcceptDrops(False)  # dropped files go to the window (they are indexed)
        self.viewport().setMouseTracking(True)
        self.setToolTip(self.tr("Click a line of text to copy it, drag across lines to copy several. "
                                "Scroll to zoom, drag to move, double-click for 100 % or to fit"))
        self._fit = True
        self._message = ""
        self._raw_lines: list[dict] = []
        self._source_size: tuple[int, int] | None = None
        self._terms: list[str] = []
        self.lines: list[TextLine] = []
        self.selected: list[int] = []  # indices into lines, in reading order
        self.hits: list[tuple[int, QPolygonF]] = []  # (line, the matched part of it)
        self.hover: int | None = None
        self._press: QPointF | None = None  # a text selection being made (scene coordinates)
        self._press_line: int | None = None
        self._band: QRectF | None = None

    @property
    def has_image(self) -> bool:
        return not self._item.pixmap().isNull()

    def set_image(self, image: QImage | QPixmap | None, message: str = "") -> None:
        pix = QPixmap.fromImage(image) if isinstance(image, QImage) else (image or QPixmap())
        self._item.setPixmap(pix)
        self.scene().setSceneRect(self._item.boundingRect())
        self._message = message if pix.isNull() else ""
        self._fit = True
        self._place_lines()
        self.fit()
        self.viewport().update()

    def set_message(self, message: str) -> None:
        self.set_image(None, message)

    # --- the text on the image ------------------------------------------------------------
    def set_text_lines(self, lines: list[dict], source_size: tuple[int, int] | None) -> None:
        """The OCR lines (``text`` and ``box``: four corners in the pixels of an image
        ``source_size`` big), in reading order."""
        raw = [ln for ln in lines or [] if ln.get("text") and len(ln.get("box") or ()) == 4]
        if raw == self._raw_lines and source_size == self._source_size:
            return  # the same image shown again (another result came): keep the selection
        self._raw_lines, self._source_size = raw, source_size
        self._place_lines()
        self.viewport().update()

    def set_highlight(self, terms: list[str]) -> None:
        """Highlight these (normalised) words wherever a line holds them."""
        self._terms = [t for t in terms if t]
        self._find_hits()
        self.viewport().update()

    @property
    def hit_lines(self) -> list[int]:
        return sorted({i for i, _ in self.hits})

    def selected_text(self) -> str:
        return "\n".join(self.lines[i].text for i in self.selected)

    def line_at(self, scene_pos: QPointF) -> int | None:
        for i, line in enumerate(self.lines):
            if line.rect.contains(scene_pos) and line.polygon.containsPoint(scene_pos, Qt.FillRule.OddEvenFill):
                return i
        return None

    def select_lines(self, indices, copy: bool = True) -> str:
        self.selected = sorted(set(indices))
        self.viewport().update()
        return self.copy_selection() if copy else self.selected_text()

    def copy_selection(self) -> str:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.copied.emit(text, len(self.selected))
        return text

    def _place_lines(self) -> None:
        self.lines, self.selected, self.hover = [], [], None
        pix = self._item.pixmap()
        if pix.isNull() or not self._raw_lines or not self._source_size or min(self._source_size) <= 0:
            self.hits = []
            return
        sx, sy = pix.width() / self._source_size[0], pix.height() / self._source_size[1]
        for ln in self._raw_lines:
            poly = QPolygonF([QPointF(float(x) * sx, float(y) * sy) for x, y in ln["box"]])
            self.lines.append(TextLine(str(ln["text"]), poly, poly.boundingRect()))
        self._find_hits()

    def _find_hits(self) -> None:
        self.hits = []
        for i, line in enumerate(self.lines):
            norm = normalize(line.text)
            exact = len(norm) == len(line.text)  # positions carry over to the shown text
            for term in self._terms:
                # a word of Latin script from the start of a word; CJK anywhere
                pattern = re.escape(term) if not term[:1].isascii() else r"(?<![^\W_])" + re.escape(term)
                for m in re.finditer(pattern, norm):
                    self.hits.append((i, _span(line, m.start(), m.end()) if exact else QPolygonF(line.polygon)))

    # --- zoom -----------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        if self.has_image:
            self.resetTransform()
            r = self._item.boundingRect()
            view = self.viewport().rect()
            # Never blow a small image up past 100 % just to fill the pane.
            if r.width() > view.width() or r.height() > view.height():
                self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def zoom_by(self, factor: float) -> None:
        if not self.has_image:
            return
        target = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
        self._fit = False
        self.scale(target / self.zoom(), target / self.zoom())

    def actual_size(self) -> None:
        self._fit = False
        self.resetTransform()

    # --- events -------------------------------------------------------------------------
    def wheelEvent(self, event):
        if event.angleDelta().y():
            self.zoom_by(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)
            event.accept()

    def keyPressEvent(self, event):
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
        elif event.matches(QKeySequence.StandardKey.SelectAll) and self.lines:
            self.select_lines(range(len(self.lines)))
        elif event.key() == Qt.Key.Key_Escape and self.selected:
            self.select_lines([], copy=False)
        elif event.key() in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif event.key() == Qt.Key.Key_Minus:
            self.zoom_by(1 / ZOOM_STEP)
        elif event.key() == Qt.Key.Key_0:
            self._fit = True
            self.fit()
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event):
        pos = self.mapToScene(event.position().toPoint())
        line = self.line_at(pos) if self.lines else None
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if event.button() == Qt.MouseButton.LeftButton and (line is not None or (shift and self.lines)):
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._press, self._press_line, self._band = pos, line, None
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self.selected:
            self.select_lines([], copy=False)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        pos = self.mapToScene(event.position().toPoint())
        if self._press is not None:
            start = self.mapFromScene(self._press)
            if self._band is not None or (event.position().toPoint() - start).manhattanLength() >= \
                    QApplication.startDragDistance():
                self._band = QRectF(self._press, pos).normalized()
                self.selected = [i for i, line in enumerate(self.lines) if line.rect.intersects(self._band)]
                self.viewport().update()
            event.accept()
            return
        super().mouseMoveEvent(event)
        line = self.line_at(pos) if self.lines else None
        if line != self.hover:
            self.hover = line
            self.viewport().update()
        if line is not None:
            self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        elif self.dragMode() == QGraphicsView.DragMode.ScrollHandDrag and not event.buttons():
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseReleaseEvent(self, event):
        if self._press is not None and event.button() == Qt.MouseButton.LeftButton:
            dragged, line = self._band is not None, self._press_line
            self._press, self._press_line, self._band = None, None, None
            if dragged:
                self.select_lines(self.selected)
            else:
                self.select_lines([] if line is None else [line])
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event):
        super().leaveEvent(event)
        if self.hover is not None:
            self.hover = None
            self.viewport().update()

    def mouseDoubleClickEvent(self, event):
        if self._fit:
            self.actual_size()
        else:
            self._fit = True
            self.fit()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def drawForeground(self, painter, rect):
        if self.has_image and self.lines:
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            pen = QPen(LINE_PEN)
            pen.setCosmetic(True)
            painter.setPen(pen)
            for i, line in enumerate(self.lines):
                if line.rect.intersects(rect):
                    painter.setBrush(QBrush(HOVER_FILL if i == self.hover else LINE_FILL))
                    painter.drawPolygon(line.polygon)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(HIT_FILL))
            for _i, poly in self.hits:
                painter.drawPolygon(poly)
            painter.setBrush(QBrush(SELECTED_FILL))
            for i in self.selected:
                painter.drawPolygon(self.lines[i].polygon)
            if self._band is not None:
                band = QPen(LINE_PEN.darker(130))
                band.setCosmetic(True)
                band.setStyle(Qt.PenStyle.DashLine)
                painter.setPen(band)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(self._band)
            painter.restore()
        if self._message and not self.has_image:
            painter.save()
            painter.resetTransform()
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._message)
            painter.restore()
