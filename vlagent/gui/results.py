"""The result list: one page of search hits read from the index (off the GUI thread), the Qt
model holding them and the delegate that paints a row (thumbnail, name, highlighted snippet,
where and when it was seen)."""

from __future__ import annotations

import html
import os
import time
from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QColor, QFont, QPalette, QTextDocument
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from vlagent.common import display_path
from vlagent.index.search import HL_END, HL_START, Filters, highlight

PAGE_SIZE = 30  # a screenful and then some; more pages load on scroll
THUMB = 88
ROW_HEIGHT = THUMB + 16
HIGHLIGHT_BG = "#ffe066"


@dataclass
class ResultPage:
    query: str
    records: list[dict]
    offset: int
    more: bool  # another page may follow
    total: int | None = None
    search_ms: float = 0.0  # the index query alone
    fetch_ms: float = 0.0  # query + reading the page's records
    extra: dict = field(default_factory=dict)


def fetch_page(index, query: str, filters: Filters, sort: str, offset: int = 0, limit: int = PAGE_SIZE) -> ResultPage:
    """Run a search and read what the list shows for each hit (one query for the page)."""
    t0 = time.perf_counter()
    if index is None:
        return ResultPage(query, [], offset, False, 0)
    page = index.search_page(query, filters=filters, limit=limit, offset=offset, sort=sort, look_ahead=True)
    records = [summary_record(hit.image, hit.snippet, hit.score) for hit in page.hits]
    t2 = time.perf_counter()
    return ResultPage(query, records, offset, bool(page.more), page.total,
                      search_ms=page.search_ms, fetch_ms=(t2 - t0) * 1000)


def summary_record(img, snippet: str = "", score: float = 0.0) -> dict:
    """What a list or the timeline shows of an image (an index ``ImageSummary``)."""
    return {
        "id": img.id, "source": img.source, "first_seen": img.first_seen, "width": img.width,
        "height": img.height, "bytes": img.bytes, "thumbnail": img.thumbnail_file, "gone_at": img.gone_at,
        "path": img.path, "path_gone": int(img.path_gone), "description": img.description, "ocr": img.ocr,
        "name": display_path(os.path.basename(img.path)) if img.path else f"#{img.id}",
        "snippet": snippet or _excerpt(img.description or img.ocr or ""),
        "score": score,
    }


def _excerpt(text: str, width: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def snippet_html(snippet: str) -> str:
    """A snippet as HTML: escaped, its matches highlighted."""
    text = html.escape(" ".join(snippet.split()))
    return highlight(text, f'<span style="background-color:{HIGHLIGHT_BG}; color:#000">', "</span>")


def when_text(ts: float | None) -> str:
    if not ts:
        return ""
    dt = datetime.fromtimestamp(ts)
    if dt.date() == datetime.now().date():
        return dt.strftime("%H:%M")
    return dt.strftime("%Y-%m-%d %H:%M")


class ResultsModel(QAbstractListModel):
    RecordRole = Qt.ItemDataRole.UserRole + 1
    more_wanted = Signal()

    def __init__(self, thumbnails, parent=None):
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.records: list[dict] = []
        self.more = False
        self._rows_by_thumb: dict[str, list[int]] = {}
        thumbnails.ready.connect(self._thumb_ready)

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.records)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        rec = self.records[index.row()]
        if role == self.RecordRole:
            return rec
        if role == Qt.ItemDataRole.DisplayRole:
            return rec["name"]
        if role == Qt.ItemDataRole.ToolTipRole:
            return display_path(rec["path"]) if rec["path"] else None
        return None

    def set_page(self, page: ResultPage) -> None:
        self.beginResetModel()
        self.records = list(page.records)
        self.more = page.more
        self._reindex()
        self.endResetModel()

    def append_page(self, page: ResultPage) -> None:
        known = {r["id"] for r in self.records}
        new = [r for r in page.records if r["id"] not in known]
        if new:
            self.beginInsertRows(QModelIndex(), len(self.records), len(self.records) + len(new) - 1)
            self.records.extend(new)
            self._reindex()
            self.endInsertRows()
        self.more = page.more

    def remove_image(self, image_id: int) -> None:
        for row, rec in enumerate(self.records):
            if rec["id"] == image_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.records[row]
                self._reindex()
                self.endRemoveRows()
                return

    def row_of(self, image_id: int) -> int:
        return next((i for i, r in enumerate(self.records) if r["id"] == image_id), -1)

    def canFetchMore(self, parent=QModelIndex()):
        return not parent.isValid() and self.more

    def fetchMore(self, parent=QModelIndex()):
        if self.more:
            self.more = False  # until the next page says otherwise
            self.more_wanted.emit()

    def _reindex(self) -> None:
        self._rows_by_thumb = {}
        for i, r in enumerate(self.records):
            if r["thumbnail"]:
                self._rows_by_thumb.setdefault(r["thumbnail"], []).append(i)

    def _thumb_ready(self, path: str) -> None:
        for row in self._rows_by_thumb.get(path, ()):
            ix = self.index(row)
            self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.DecorationRole])


class ResultDelegate(QStyledItemDelegate):
    """Paints a row: the thumbnail on the left; the file name, the highlighted snippet and a
    line of where/when on the right."""

    def __init__(self, thumbnails, labels: dict[str, str], parent=None):
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.labels = labels  # translated: source names, "file gone"
        self._doc = QTextDocument()
        self._doc.setDocumentMargin(0)

    def sizeHint(self, option, index):
        return QSize(max(option.rect.width(), 320), ROW_HEIGHT)

    def paint(self, painter, option, index):
        rec = index.data(ResultsModel.RecordRole)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        text_color = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        dim = QColor(text_color)
        dim.setAlphaF(0.65)
        r = option.rect.adjusted(8, 8, -8, -8)
        painter.save()
        # thumbnail, centred in a square cell
        cell = QRect(r.left(), r.top(), THUMB, THUMB)
        pix = self.thumbnails.get(rec["thumbnail"])
        if pix is not None:
            scaled = pix.size().scaled(cell.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(cell.center())
            painter.drawPixmap(target, pix)
        else:
            painter.fillRect(cell, pal.color(QPalette.ColorRole.AlternateBase))
        x = cell.right() + 12
        width = r.right() - x
        # title line: name (bold) … date on the right
        font = QFont(option.font)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(text_color)
        when = when_text(rec["first_seen"])
        fm = painter.fontMetrics()
        when_w = fm.horizontalAdvance(when) + 8
        name = rec["name"] + ("  · " + self.labels["gone"] if rec["gone_at"] else "")
        painter.drawText(QRect(x, r.top(), width - when_w, fm.height()), Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(name, Qt.TextElideMode.ElideMiddle, width - when_w))
        painter.setFont(option.font)
        painter.setPen(dim)
        painter.drawText(QRect(x, r.top(), width, fm.height()), Qt.AlignmentFlag.AlignRight, when)
        # snippet: up to two lines of rich text
        top = r.top() + fm.height() + 4
        meta_h = painter.fontMetrics().height()
        snip_h = r.bottom() - top - meta_h - 2
        self._doc.setDefaultFont(option.font)
        self._doc.setHtml(f'<div style="color:{text_color.name()}">{snippet_html(rec["snippet"])}</div>')
        self._doc.setTextWidth(width)
        painter.translate(x, top)
        clip = QRectF(0, 0, width, snip_h)
        painter.setClipRect(clip)
        ctx = QAbstractTextDocumentLayout.PaintContext()
        ctx.clip = clip
        ctx.palette.setColor(QPalette.ColorRole.Text, text_color)
        self._doc.documentLayout().draw(painter, ctx)
        painter.setClipping(False)
        painter.translate(-x, -top)
        # meta line: source · size · folder
        meta = [self.labels.get(rec["source"], rec["source"])]
        if rec["width"]:
            meta.append(f"{rec['width']}×{rec['height']}")
        if rec["path"]:
            meta.append(display_path(os.path.dirname(rec["path"])))
        painter.setPen(dim)
        mfm = painter.fontMetrics()
        painter.drawText(QRect(x, r.bottom() - meta_h, width, meta_h), Qt.AlignmentFlag.AlignLeft,
                         mfm.elidedText("  ·  ".join(meta), Qt.TextElideMode.ElideMiddle, width))
        painter.restore()


__all__ = ["ResultPage", "fetch_page", "summary_record", "ResultsModel", "ResultDelegate", "snippet_html", "HL_START",
           "HL_END", "PAGE_SIZE"]
