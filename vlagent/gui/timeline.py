"""The timeline: everything vlagent has seen, newest first, grouped by the day it was first
seen, as a grid of thumbnails.

It scrolls through any number of images. The model knows how many images each day holds
(one grouped count on the reader thread) and reads pages of records as they come on screen,
keeping a bounded number of pages; the view lays the grid out from the day counts alone, so
the scroll bar spans the whole history at once, and asks for the thumbnails of the cells it
paints (a load that scrolled off screen before its turn is skipped).
"""

from __future__ import annotations

import bisect
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta

from PySide6.QtCore import QDate, QEvent, QLocale, QObject, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QAbstractScrollArea, QToolTip

from vlagent.common import display_path
from vlagent.gui import i18n
from vlagent.gui.results import summary_record, when_text

PAGE = 120  # records per read
MAX_PAGES = 40  # pages kept; the others are read again when scrolled back to
THUMB = 96  # the thumbnail cache's size: drawn 1:1
CELL = THUMB + 12
HEADER = 34
GROUP_GAP = 6
MARGIN = 10


@dataclass
class Day:
    key: str  # YYYY-MM-DD, local time
    count: int
    offset: int  # the timeline position of its first (newest) image


def read_days(index) -> list[tuple[str, int]]:
    return index.timeline_days() if index is not None else []


def read_pages(index, pages: list[int]) -> dict[int, list[dict]]:
    if index is None:
        return {}
    out = {}
    for p in pages:
        out[p] = records = [summary_record(s) for s in index.timeline_page(p * PAGE, PAGE)]
        for r in records:  # the grid shows none of the text: keep the pages small
            r["ocr"] = r["description"] = None
            r["snippet"] = ""
    return out


class TimelineModel(QObject):
    """The day groups and the records read so far. ``record(i)`` is the i-th image, newest
    first, or None until its page is read (``want`` asks for it)."""

    days_changed = Signal()  # a new layout (after reload)
    rows_loaded = Signal()

    def __init__(self, reader, parent=None):
        super().__init__(parent)
        self.reader = reader
        self.days: list[Day] = []
        self.total = 0
        self.loaded = False  # the days have been read
        self._starts: list[int] = []
        self._pages: OrderedDict[int, list[dict]] = OrderedDict()
        self._asked: set[int] = set()  # the pages of the read in flight
        self._generation = 0
        self.pages_read = 0  # how much was read from the index (tests, benchmarks)
        self.rows_read = 0

    def reload(self) -> None:
        """Read the days again (images were added or forgotten); pages are read anew."""
        self._generation += 1
        gen = self._generation
        self.reader.submit(read_days, lambda days: self._days_read(gen, days), key="timeline-days")

    def _days_read(self, gen: int, days: list[tuple[str, int]]) -> None:
        if gen != self._generation:
            return
        self.days, offset = [], 0
        for key, n in days:
            self.days.append(Day(key, n, offset))
            offset += n
        self.total = offset
        self._starts = [d.offset for d in self.days]
        self._pages.clear()
        self._asked = set()
        self.loaded = True
        self.days_changed.emit()

    def day_of(self, i: int) -> int:
        return bisect.bisect_right(self._starts, i) - 1

    def record(self, i: int) -> dict | None:
        page = self._pages.get(i // PAGE)
        if page is None:
            return None
        self._pages.move_to_end(i // PAGE)
        k = i % PAGE
        return page[k] if k < len(page) else None

    def want(self, first: int, last: int) -> None:
        """Read the pages holding positions ``first``..``last`` that are not here yet (a newer
        wish replaces one still waiting)."""
        if not self.total:
            return
        first, last = max(0, first), min(self.total - 1, last)
        needed = [p for p in range(first // PAGE, last // PAGE + 1) if p not in self._pages]
        if not needed or set(needed) <= self._asked:
            return
        self._asked = set(needed)
        gen = self._generation
        self.reader.submit(lambda index: read_pages(index, needed), lambda pages: self._pages_read(gen, pages),
                           key="timeline-pages")

    def _pages_read(self, gen: int, pages: dict[int, list[dict]]) -> None:
        if gen != self._generation:
            return
        self._asked = set()
        for p, records in pages.items():
            self._pages[p] = records
            self._pages.move_to_end(p)
            self.pages_read += 1
            self.rows_read += len(records)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        self.rows_loaded.emit()

    def index_of(self, image_id: int) -> int:
        """The image's position, when its page is here; else -1."""
        for p, records in self._pages.items():
            for k, r in enumerate(records):
                if r["id"] == image_id:
                    return p * PAGE + k
        return -1

    @property
    def pages_kept(self) -> int:
        return len(self._pages)


class TimelineView(QAbstractScrollArea):
    """The grid: a header per day, then its thumbnails. Arrow keys, Page Up/Down, Home/End
    move the current image; Enter or a double click activates it."""

    current_changed = Signal(int)  # the image id now current
    activated = Signal(int)

    def __init__(self, model: TimelineModel, thumbnails, parent=None):
        super().__init__(parent)
        self.model = model
        self.thumbnails = thumbnails
        self.current = -1
        self._follow: int | None = None  # the current image's id
        self._announce = False  # the current image's page was not read yet: tell when it is
        self._relocate: tuple[int, int] | None = None  # (image id, its y on screen) to find after a reload
        self._cols = 1
        self._x0 = MARGIN
        self._tops: list[int] = []
        self._height = 0
        self._on_screen: set[str] = set()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName(self.tr("Timeline"))
        model.days_changed.connect(self._days_changed)
        model.rows_loaded.connect(self._rows_loaded)
        thumbnails.ready.connect(self._thumb_ready)

    # --- layout ---------------------------------------------------------------------------
    def _layout(self) -> None:
        w = self.viewport().width()
        self._cols = max(1, (w - 2 * MARGIN) // CELL)
        self._x0 = max(MARGIN, (w - self._cols * CELL) // 2)
        tops, y = [], MARGIN // 2
        for d in self.model.days:
            tops.append(y)
            y += HEADER + math.ceil(d.count / self._cols) * CELL + GROUP_GAP
        self._tops, self._height = tops, y
        sb = self.verticalScrollBar()
        sb.setRange(0, max(0, y - self.viewport().height()))
        sb.setPageStep(self.viewport().height())
        sb.setSingleStep(CELL // 3)

    @property
    def columns(self) -> int:
        return self._cols

    def cell_rect(self, i: int) -> QRect:
        """Where image ``i`` is drawn, in content coordinates (the viewport's plus the scroll)."""
        d = self.model.day_of(i)
        r, c = divmod(i - self.model.days[d].offset, self._cols)
        return QRect(self._x0 + c * CELL, self._tops[d] + HEADER + r * CELL, CELL, CELL)

    def visual_rect(self, i: int) -> QRect:
        """Where image ``i`` is on the viewport."""
        return self.cell_rect(i).translated(0, -self.verticalScrollBar().value())

    def index_at(self, pos: QPoint) -> int:
        """The image at a viewport position, or -1."""
        y, x = pos.y() + self.verticalScrollBar().value(), pos.x() - self._x0
        d = bisect.bisect_right(self._tops, y) - 1
        if d < 0 or x < 0:
            return -1
        ry = y - self._tops[d] - HEADER
        c = x // CELL
        if ry < 0 or c >= self._cols:
            return -1
        k = (ry // CELL) * self._cols + c
        day = self.model.days[d]
        return day.offset + k if k < day.count else -1

    def day_label(self, key: str) -> str:
        d = date.fromisoformat(key)
        today = date.today()
        if d == today:
            return self.tr("Today")
        if d == today - timedelta(days=1):
            return self.tr("Yesterday")
        return i18n.ui_locale().toString(QDate(d.year, d.month, d.day), QLocale.FormatType.LongFormat)

    def count_label(self, n: int) -> str:
        return self.tr("1 image") if n == 1 else self.tr("{n} images").format(n=i18n.ui_locale().toString(n))

    # --- painting -------------------------------------------------------------------------
    def paintEvent(self, event):
        p = QPainter(self.viewport())
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        shown: set[str] = set()
        self._on_screen = shown  # read by the thumbnails thread: what is still worth loading
        days = self.model.days
        if not days:
            p.setPen(text)
            p.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.tr("Nothing seen yet: images appear here as vlagent indexes them.")
                       if self.model.loaded else self.tr("Loading…"))
            p.end()
            return
        top, h = self.verticalScrollBar().value(), self.viewport().height()
        width = self.viewport().width() - 2 * self._x0
        bold = QFont(self.font())
        bold.setBold(True)
        dim = QColor(text)
        dim.setAlphaF(0.6)
        empty = QColor(text)
        empty.setAlphaF(0.07)
        first = last = -1
        d = max(0, bisect.bisect_right(self._tops, top) - 1)
        while d < len(days) and self._tops[d] < top + h:
            day, gy = days[d], self._tops[d]
            header = QRect(self._x0 + 2, gy - top, width, HEADER)
            p.setFont(bold)
            p.setPen(text)
            p.drawText(header, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.day_label(day.key))
            p.setFont(self.font())
            p.setPen(dim)
            p.drawText(header.adjusted(0, 0, -4, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       self.count_label(day.count))
            rows = math.ceil(day.count / self._cols)
            r0 = max(0, (top - gy - HEADER) // CELL)
            r1 = min(rows - 1, (top + h - gy - HEADER) // CELL)
            for r in range(r0, r1 + 1):
                for c in range(self._cols):
                    k = r * self._cols + c
                    if k >= day.count:
                        break
                    i = day.offset + k
                    rect = QRect(self._x0 + c * CELL, gy + HEADER + r * CELL - top, CELL, CELL)
                    self._paint_cell(p, rect, i, shown, empty)
                    first = i if first < 0 else first
                    last = i
            d += 1
        p.end()
        if first >= 0:  # what is on screen, and half a page either way
            self.model.want(first - PAGE // 2, last + PAGE // 2)

    def _paint_cell(self, p: QPainter, rect: QRect, i: int, shown: set[str], empty: QColor) -> None:
        pal = self.palette()
        box = rect.adjusted(6, 6, -6, -6)
        if i == self.current:
            p.fillRect(rect.adjusted(1, 1, -1, -1), pal.color(QPalette.ColorRole.Highlight))
        rec = self.model.record(i)
        pix = None
        if rec is not None and rec["thumbnail"]:
            shown.add(rec["thumbnail"])
            pix = self.thumbnails.get(rec["thumbnail"], self._still_wanted)
        if pix is not None:
            size = pix.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            p.drawPixmap(target, pix)
        else:
            p.fillRect(box, empty)
            if rec is not None and not rec["thumbnail"]:
                p.setPen(pal.color(QPalette.ColorRole.Text))
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, f"#{rec['id']}")
        if i == self.current and self.hasFocus():
            pen = QPen(pal.color(QPalette.ColorRole.HighlightedText))
            pen.setStyle(Qt.PenStyle.DotLine)
            p.setPen(pen)
            p.drawRect(rect.adjusted(2, 2, -3, -3))

    def _still_wanted(self, path: str) -> bool:
        return path in self._on_screen

    def _thumb_ready(self, path: str) -> None:
        if path in self._on_screen:
            self.viewport().update()

    # --- the current image --------------------------------------------------------------
    def current_id(self) -> int | None:
        rec = self.model.record(self.current) if self.current >= 0 else None
        return rec["id"] if rec is not None else None

    def set_current(self, i: int) -> None:
        if not self.model.total:
            return
        i = min(max(i, 0), self.model.total - 1)
        self.current = i
        self.ensure_visible(i)
        self.viewport().update()
        rec = self.model.record(i)
        if rec is not None:
            self._announce = False
            self._follow = rec["id"]
            self.current_changed.emit(rec["id"])
        else:
            self._announce = True
            self.model.want(i, i)

    def ensure_visible(self, i: int) -> None:
        if not self._tops:
            return
        r = self.cell_rect(i)
        first_row = i - self.model.days[self.model.day_of(i)].offset < self._cols
        sb, h = self.verticalScrollBar(), self.viewport().height()
        want_top = r.top() - (HEADER if first_row else 0)
        if i == self.model.total - 1:
            sb.setValue(sb.maximum())
        elif want_top <= self._tops[0]:
            sb.setValue(0)
        elif want_top < sb.value():
            sb.setValue(want_top)
        elif r.bottom() > sb.value() + h:
            sb.setValue(r.bottom() - h + 1)

    def _row_step(self, i: int, step: int) -> int:
        """The image a row above (step -1) or below (+1), in the same column where there is one."""
        days, cols = self.model.days, self._cols
        d = self.model.day_of(i)
        r, c = divmod(i - days[d].offset, cols)
        r += step
        if r < 0:
            if d == 0:
                return i
            d -= 1
            r = math.ceil(days[d].count / cols) - 1
        elif r >= math.ceil(days[d].count / cols):
            if d == len(days) - 1:
                return i
            d += 1
            r = 0
        return days[d].offset + min(r * cols + c, days[d].count - 1)

    def _days_changed(self) -> None:
        if self._follow is not None and self.current >= 0 and self._tops:
            self._relocate = (self._follow, self.visual_rect(self.current).top())
        self._layout()
        if self.current >= self.model.total:
            self.current = self.model.total - 1
        self.viewport().update()

    def _rows_loaded(self) -> None:
        if self._relocate is not None:
            image_id, y = self._relocate
            j = self.model.index_of(image_id)
            self._relocate = None
            if j >= 0 and j != self.current:  # images came or went before it: stay on it
                self.current = j
                self.verticalScrollBar().setValue(self.cell_rect(j).top() - y)
        if self._announce and self.current >= 0:
            rec = self.model.record(self.current)
            if rec is not None:
                self._announce = False
                self._follow = rec["id"]
                self.current_changed.emit(rec["id"])
        self.viewport().update()

    # --- events ---------------------------------------------------------------------------
    def resizeEvent(self, event):
        anchor = self.current if self.current >= 0 and self._tops else None
        y = self.visual_rect(anchor).top() if anchor is not None else None
        super().resizeEvent(event)
        self._layout()
        if anchor is not None and y is not None and 0 <= y < self.viewport().height():
            self.verticalScrollBar().setValue(self.cell_rect(anchor).top() - y)

    def showEvent(self, event):
        super().showEvent(event)
        self._layout()

    def keyPressEvent(self, event):
        total = self.model.total
        key = event.key()
        nav = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp,
               Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End}
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            image_id = self.current_id()
            if image_id is not None:
                self.activated.emit(image_id)
            return
        if key not in nav or not total:
            super().keyPressEvent(event)
            return
        if self.current < 0:
            first = self.index_at(QPoint(self._x0 + 1, HEADER + 1))
            self.set_current(first if first >= 0 else 0)
            return
        i = self.current
        rows = max(1, self.viewport().height() // CELL)
        if key == Qt.Key.Key_Left:
            i -= 1
        elif key == Qt.Key.Key_Right:
            i += 1
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            step = -1 if key in (Qt.Key.Key_Up, Qt.Key.Key_PageUp) else 1
            for _ in range(rows if key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown) else 1):
                i = self._row_step(i, step)
        elif key == Qt.Key.Key_Home:
            i = 0
        elif key == Qt.Key.Key_End:
            i = total - 1
        self.set_current(i)

    def mousePressEvent(self, event):
        i = self.index_at(event.position().toPoint())
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if i >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.set_current(i)

    def mouseDoubleClickEvent(self, event):
        i = self.index_at(event.position().toPoint())
        if i >= 0 and i == self.current:
            image_id = self.current_id()
            if image_id is not None:
                self.activated.emit(image_id)

    def focusInEvent(self, event):
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event):
        super().focusOutEvent(event)
        self.viewport().update()

    def viewportEvent(self, event):
        if event.type() == QEvent.Type.ToolTip:
            i = self.index_at(event.pos())
            rec = self.model.record(i) if i >= 0 else None
            if rec is not None:
                name = display_path(rec["path"]) if rec["path"] else rec["name"]
                QToolTip.showText(event.globalPos(), f"{name}\n{when_text(rec['first_seen'])}", self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)
