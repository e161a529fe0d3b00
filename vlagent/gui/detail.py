"""The detail pane of the search window: the selected image (zoomable, its OCR lines on it:
click or drag to copy, the search's words highlighted), its OCR text (selectable, Copy
text), its description, questions about it, its files (Open, Show in
folder), when it was seen and how long each result took."""

from __future__ import annotations

import html
import os
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vlagent.common import display_path, human_bytes
from vlagent.gui.image_view import ImageView, highlight_terms
from vlagent.gui.thumbnails import read_scaled

if TYPE_CHECKING:
    from vlagent.gui.ask_panel import AskPanel

MAX_VIEW_PX = 4096  # the pane never needs more; a 100 MP photo is decoded at this size


def open_path(path: str) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def show_in_folder(path: str) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path) or path))


def _when(ts) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


class DetailPane(QWidget):
    forget_requested = Signal(int)
    describe_requested = Signal(int)
    message = Signal(str)  # a short note for the status bar (e.g. what was copied)

    def __init__(self, backend, parent=None):
        super().__init__(parent)
        self.backend = backend
        self.detail: dict | None = None
        self.image_id: int | None = None
        self._ask_for: int | None = None  # open the Ask tab, its question focused, when this image shows
        self._build()
        self.show_empty()

    # --- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.stack = QStackedWidget(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        self.empty = QLabel(self.tr("Select an image to see its text, its description and to ask about it."))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setObjectName("emptyDetail")
        self.stack.addWidget(self.empty)

        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(8, 4, 8, 8)
        self.title = QLabel()
        self.title.setObjectName("detailTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta = QLabel()
        self.meta.setObjectName("detailMeta")
        self.meta.setWordWrap(True)
        lay.addWidget(self.title)
        lay.addWidget(self.meta)

        split = QSplitter(Qt.Orientation.Vertical)
        self.image_view = ImageView()
        self.image_view.copied.connect(self._copied)
        split.addWidget(self.image_view)
        self.tabs = QTabWidget()
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([400, 280])
        lay.addWidget(split, 1)

        # OCR text
        text_tab = QWidget()
        tl = QVBoxLayout(text_tab)
        self.ocr_edit = QPlainTextEdit()
        self.ocr_edit.setReadOnly(True)
        self.ocr_edit.setPlaceholderText(self.tr("No text was found in this image."))
        tl.addWidget(self.ocr_edit)
        row = QHBoxLayout()
        row.addStretch(1)
        self.copy_button = QPushButton(self.tr("Copy text"))
        self.copy_button.clicked.connect(self.copy_text)
        row.addWidget(self.copy_button)
        tl.addLayout(row)
        self.tabs.addTab(text_tab, self.tr("Text"))

        # description
        desc_tab = QWidget()
        dl = QVBoxLayout(desc_tab)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setReadOnly(True)
        self.description_edit.setPlaceholderText(self.tr("No description yet."))
        dl.addWidget(self.description_edit)
        row = QHBoxLayout()
        self.describe_note = QLabel()
        self.describe_note.setObjectName("hint")
        row.addWidget(self.describe_note, 1)
        self.describe_button = QPushButton(self.tr("Describe again"))
        self.describe_button.clicked.connect(self._describe)
        row.addWidget(self.describe_button)
        dl.addLayout(row)
        self.tabs.addTab(desc_tab, self.tr("Description"))

        # ask (the panel needs the worker; it is added by the window that has one)
        self.ask_panel: AskPanel | None = None

        # files and timings
        info_tab = QWidget()
        il = QVBoxLayout(info_tab)
        self.paths = QListWidget()
        self.paths.setMaximumHeight(90)
        # The item shows display_path(); the file opened is the real path of its row.
        self.paths.itemDoubleClicked.connect(lambda item: self._open_row(self.paths.row(item)))
        il.addWidget(QLabel(self.tr("Files")))
        il.addWidget(self.paths)
        row = QHBoxLayout()
        self.open_button = QPushButton(self.tr("Open"))
        self.open_button.clicked.connect(lambda: self._with_path(open_path))
        self.folder_button = QPushButton(self.tr("Show in folder"))
        self.folder_button.clicked.connect(lambda: self._with_path(show_in_folder))
        row.addWidget(self.open_button)
        row.addWidget(self.folder_button)
        row.addStretch(1)
        il.addLayout(row)
        self.facts = QFormLayout()
        il.addLayout(self.facts)
        self.timings = QTreeWidget()
        self.timings.setHeaderLabels([self.tr("Result"), self.tr("Engine"), self.tr("Time"), self.tr("When")])
        self.timings.setRootIsDecorated(False)
        self.timings.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        il.addWidget(self.timings, 1)
        self.tabs.addTab(info_tab, self.tr("Details"))

        # actions under the tabs
        row = QHBoxLayout()
        row.addStretch(1)
        self.forget_button = QPushButton(self.tr("Forget…"))
        self.forget_button.setToolTip(self.tr("Remove this image from the index (its files stay on disk)"))
        self.forget_button.clicked.connect(self._forget)
        row.addWidget(self.forget_button)
        lay.addLayout(row)
        self.stack.addWidget(page)
        self.page = page

    def set_ask_panel(self, panel: AskPanel) -> None:
        self.ask_panel = panel
        self.tabs.insertTab(2, panel, self.tr("Ask"))

    def ask_about(self, image_id: int) -> None:
        """Show the image with the Ask tab open and its question box focused."""
        self._ask_for = image_id
        if image_id == self.image_id and self.detail is not None and self.detail["id"] == image_id:
            self._open_ask()
        else:
            self.load(image_id)

    def _open_ask(self) -> None:
        self._ask_for = None
        if self.ask_panel is not None:
            self.tabs.setCurrentWidget(self.ask_panel)
            self.ask_panel.question_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_highlight(self, query: str) -> None:
        """Highlight the words of ``query`` (the search on screen) on the image."""
        self.image_view.set_highlight(highlight_terms(query))

    def _copied(self, _text: str, lines: int) -> None:
        self.message.emit(self.tr("Copied 1 line") if lines == 1 else self.tr("Copied {n} lines").format(n=lines))

    # --- content --------------------------------------------------------------------------
    def show_empty(self) -> None:
        self.image_id = None
        self.detail = None
        self.stack.setCurrentWidget(self.empty)
        if self.ask_panel is not None:
            self.ask_panel.set_image(None)

    def load(self, image_id: int) -> None:
        """Read the image's record off the GUI thread, then show it."""
        if image_id != self.image_id:
            self.image_view.set_message(self.tr("Loading…"))
        self.image_id = image_id
        self.backend.reader.submit(lambda index: read_detail(index, image_id),
                                   lambda d: self._show(image_id, d), key="detail")

    def reload(self) -> None:
        if self.image_id is not None:
            self.load(self.image_id)

    def _show(self, image_id: int, d: dict | None) -> None:
        if image_id != self.image_id:
            return
        if d is None:
            self.show_empty()
            return
        first = self.detail is None or self.detail["id"] != image_id
        self.detail = d
        self.stack.setCurrentWidget(self.page)
        name = display_path(os.path.basename(d["path"])) if d["path"] else f"#{d['id']}"
        self.title.setText(f"<b>{html.escape(name)}</b>")
        parts = [f"{d['width']}×{d['height']}", d["format"] or "", human_bytes(d["bytes"]),
                 self.tr("seen {when}").format(when=_when(d["first_seen"]))]
        if d["gone_at"]:
            parts.append(self.tr("file gone since {when}").format(when=_when(d["gone_at"])))
        self.meta.setText("  ·  ".join(p for p in parts if p))
        self.ocr_edit.setPlainText(d["ocr_text"])
        self.description_edit.setPlainText(d["description"])
        self.copy_button.setEnabled(bool(d["ocr_text"]))
        self._show_describe_state(d)
        self.paths.clear()
        for loc in d["locations"]:
            self.paths.addItem(display_path(loc["path"]) + (self.tr("  (gone)") if loc["gone_at"] else ""))
        has_file = bool(d["paths"])
        self.open_button.setEnabled(has_file)
        self.folder_button.setEnabled(has_file)
        self._fill_facts(d)
        self._fill_timings(d)
        ocr = [r for r in d["results"] if r["kind"] == "ocr" and r.get("lines")]
        self.image_view.set_text_lines(ocr[-1]["lines"] if ocr else [], (d["width"], d["height"]))
        if first:
            self._load_image(d)
        if self.ask_panel is not None:
            self.ask_panel.set_image(d)
        if self._ask_for == image_id:
            self._open_ask()

    def _show_describe_state(self, d: dict) -> None:
        agent = self.backend.agent
        pending = [j for j in d["jobs"] if j["kind"] == "describe" and j["state"] in ("pending", "running")]
        failed = [j for j in d["jobs"] if j["kind"] == "describe" and j["state"] == "failed"]
        if agent is None or not agent.can_describe:
            self.describe_button.setEnabled(False)
            self.describe_note.setText(self.tr("Descriptions need the background worker and a model."))
        elif pending:
            self.describe_button.setEnabled(False)
            self.describe_note.setText(self.tr("A description is queued…"))
        else:
            self.describe_button.setEnabled(True)
            self.describe_note.setText(self.tr("Last attempt failed: {error}").format(error=failed[-1]["error"])
                                       if failed and not d["description"] else "")

    def _fill_facts(self, d: dict) -> None:
        while self.facts.rowCount():
            self.facts.removeRow(0)
        src = {"folder": self.tr("Folder"), "screenshot": self.tr("Screenshot"), "import": self.tr("Imported"),
               "api": self.tr("API"), "web": self.tr("Web page")}
        self.facts.addRow(self.tr("Source:"), QLabel(src.get(d["source"], d["source"])))
        self.facts.addRow(self.tr("First seen:"), QLabel(_when(d["first_seen"])))
        if d["taken_at"]:
            self.facts.addRow(self.tr("Taken:"), QLabel(_when(d["taken_at"])))
        sha = QLabel(d["sha256"][:16] + "…")
        sha.setToolTip(d["sha256"])
        sha.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.addRow(self.tr("SHA-256:"), sha)

    def _fill_timings(self, d: dict) -> None:
        self.timings.clear()
        kinds = {"ocr": self.tr("OCR"), "vlm_ocr": self.tr("Transcription"), "description": self.tr("Description"),
                 "answer": self.tr("Answer")}
        for r in d["results"]:
            engine = r["engine"] + (f" / {r['model']}" if r["model"] else "")
            ms = r["latency_ms"]
            took = "" if ms is None else (f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s")
            item = QTreeWidgetItem([kinds.get(r["kind"], r["kind"]), engine, took, _when(r["created_at"])])
            if r.get("timings"):
                item.setToolTip(2, "\n".join(f"{k}: {v}" for k, v in r["timings"].items()
                                             if not isinstance(v, (dict, list))))
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.timings.addTopLevelItem(item)

    def _load_image(self, d: dict) -> None:
        image_id = d["id"]
        path = d["paths"][0] if d["paths"] else None
        thumb = d["thumbnail_path"]
        if path is None and thumb is None:
            self.image_view.set_message(self.tr("The file is gone and there is no thumbnail."))
            return

        def shown(image) -> None:
            if image_id == self.image_id:
                self.image_view.set_image(image)

        def failed(_e) -> None:
            if image_id != self.image_id:
                return
            if thumb is not None:  # the file is unreadable now: the thumbnail is better than nothing
                self.backend.images.submit(lambda: read_scaled(thumb, MAX_VIEW_PX), shown,
                                           lambda _e: self.image_view.set_message(self.tr("Cannot read the image.")))
            else:
                self.image_view.set_message(self.tr("Cannot read the image."))

        source = path or thumb
        self.backend.images.submit(lambda: read_scaled(source, MAX_VIEW_PX), shown, failed, key="detail-image")

    # --- actions --------------------------------------------------------------------------
    def ocr_text(self) -> str:
        return self.ocr_edit.toPlainText()

    def copy_text(self) -> None:
        cursor = self.ocr_edit.textCursor()
        text = cursor.selectedText().replace("\u2029", "\n") if cursor.hasSelection() else self.ocr_text()
        QGuiApplication.clipboard().setText(text)

    def _open_row(self, row: int) -> None:
        if self.detail and 0 <= row < len(self.detail["locations"]):
            open_path(self.detail["locations"][row]["path"])

    def _with_path(self, fn) -> None:
        if self.detail and self.detail["paths"]:
            row = self.paths.currentRow()
            live = [loc["path"] for loc in self.detail["locations"] if not loc["gone_at"]]
            chosen = self.detail["locations"][row]["path"] if 0 <= row < len(self.detail["locations"]) else None
            fn(chosen if chosen in live else live[0])

    def _describe(self) -> None:
        if self.image_id is not None:
            self.describe_button.setEnabled(False)
            self.describe_note.setText(self.tr("A description is queued…"))
            self.describe_requested.emit(self.image_id)

    def _forget(self) -> None:
        if self.image_id is None:
            return
        answer = QMessageBox.question(
            self, self.tr("Forget this image?"),
            self.tr("Its text, description, answers and thumbnail are removed from the index. "
                    "The file itself stays where it is."))
        if answer == QMessageBox.StandardButton.Yes:
            self.forget_requested.emit(self.image_id)


def read_detail(index, image_id: int) -> dict | None:
    """The image's record with its locations, results and jobs (on the reader thread)."""
    d = index.detail(image_id) if index is not None else None
    if d is not None:
        thumb = index.thumbnail_path(d)
        d["thumbnail_path"] = str(thumb) if thumb and thumb.exists() else None
    return d
