"""The search window: search as you type over everything vlagent has seen, filters, sort,
the result list and the detail pane of the selected image; the timeline (everything seen,
by day); Ask all (a question over everything seen, answered with citations). Image files
dropped on the window, or an image pasted (Ctrl+V), are indexed and opened with the ask box
focused.

Every query runs on the backend's reader thread (its own index connection); while typing,
only the newest query runs (older ones still queued are dropped).
"""

from __future__ import annotations

import html
import os
import time

from PySide6.QtCore import QBuffer, QEvent, QIODevice, QItemSelectionModel, QMimeData, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vlagent.common import display_path
from vlagent.gui.ask_all import AskAllPanel
from vlagent.gui.detail import DetailPane
from vlagent.gui.icons import app_icon
from vlagent.gui.results import PAGE_SIZE, ResultDelegate, ResultPage, ResultsModel, fetch_page
from vlagent.gui.timeline import TimelineModel, TimelineView
from vlagent.index.search import Filters

DEBOUNCE_MS = 60
REFRESH_MS = 1500  # after new results arrive in the index, re-run the visible query at most this often
DAY = 86400
MODES = ("list", "timeline", "ask")


def dropped_files(mime: QMimeData) -> list[str]:
    """The local files (not folders) among what is dropped or pasted."""
    out = []
    for url in mime.urls() if mime.hasUrls() else []:
        path = url.toLocalFile() if url.isLocalFile() else ""
        if path and os.path.isfile(path):
            out.append(path)
    return out


def importable(mime: QMimeData | None) -> bool:
    return mime is not None and (bool(dropped_files(mime)) or mime.hasImage())


def png_bytes(image: QImage) -> bytes:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")  # type: ignore[call-overload]  # the stubs want bytes; PySide6 takes str
    return bytes(buf.data().data())


class SearchWindow(QMainWindow):
    results_shown = Signal(object)  # the ResultPage now on screen
    settings_requested = Signal()
    mode_changed = Signal(str)  # list, timeline or ask
    imported = Signal(list)  # ids of the images just added by a drop or a paste

    def __init__(self, backend, parent=None):
        super().__init__(parent)
        self.backend = backend
        self.setWindowTitle(self.tr("vlagent — search"))
        self.setWindowIcon(app_icon())
        self.resize(1240, 780)
        self.quit_on_close = False
        self.page: ResultPage | None = None
        self.mode = "list"
        self._timeline_stale = True
        self._watched_inputs: set[int] = set()
        self._build()
        self.setAcceptDrops(True)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.run_search)
        self._refresh = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._refresh.timeout.connect(self.refresh)
        backend.index_changed.connect(self._index_changed)
        backend.image_changed.connect(self._image_changed)
        backend.image_forgotten.connect(self._image_forgotten)

    # --- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        central = QWidget()
        self.setCentralWidget(central)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(10, 10, 10, 6)

        bar = QHBoxLayout()
        self.query_edit = QLineEdit()
        self.query_edit.setObjectName("query")
        self.query_edit.setPlaceholderText(self.tr("Search text in images, descriptions, answers, file names…"))
        self.query_edit.setClearButtonEnabled(True)
        self.query_edit.textEdited.connect(self._edited)
        self.query_edit.returnPressed.connect(self.run_search)
        f = self.query_edit.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        self.query_edit.setFont(f)
        self.query_edit.setMinimumHeight(34)
        bar.addWidget(self.query_edit, 1)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QToolButton] = {}
        for n, (mode, label, tip) in enumerate((
                ("list", self.tr("List"), self.tr("Search results (Ctrl+1)")),
                ("timeline", self.tr("Timeline"), self.tr("Everything seen, by day (Ctrl+2)")),
                ("ask", self.tr("Ask all"), self.tr("Ask a question about everything seen (Ctrl+3)")))):
            button = QToolButton()
            button.setObjectName(f"mode_{mode}")
            button.setText(label)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.setMinimumHeight(34)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.clicked.connect(lambda _checked=False, m=mode: self.set_mode(m))
            self.mode_group.addButton(button, n)
            self.mode_buttons[mode] = button
            bar.addWidget(button)
            action = QAction(self)
            action.setShortcut(QKeySequence(f"Ctrl+{n + 1}"))
            action.triggered.connect(lambda _checked=False, m=mode: self.set_mode(m))
            self.addAction(action)
        self.mode_buttons["list"].setChecked(True)
        lay.addLayout(bar)

        self.filter_bar = QWidget()
        filters = QHBoxLayout(self.filter_bar)
        filters.setContentsMargins(0, 0, 0, 0)
        self.source_combo = QComboBox()
        for label, value in ((self.tr("All sources"), None), (self.tr("Folders"), "folder"),
                             (self.tr("Screenshots"), "screenshot"), (self.tr("Imported"), "import"),
                             (self.tr("API"), "api"), (self.tr("Web page"), "web")):
            self.source_combo.addItem(label, value)
        self.date_combo = QComboBox()
        for label, days in ((self.tr("Any time"), None), (self.tr("Today"), 0), (self.tr("Last 7 days"), 7),
                            (self.tr("Last 30 days"), 30), (self.tr("Last year"), 365)):
            self.date_combo.addItem(label, days)
        self.folder_combo = QComboBox()
        self.folder_combo.setMinimumContentsLength(18)
        self.folder_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._fill_folders()
        self.sort_combo = QComboBox()
        self.sort_combo.addItem(self.tr("Best match"), "relevance")
        self.sort_combo.addItem(self.tr("Newest first"), "date")
        for label, combo in ((self.tr("Source"), self.source_combo), (self.tr("Seen"), self.date_combo),
                             (self.tr("Folder"), self.folder_combo), (self.tr("Sort"), self.sort_combo)):
            cap = QLabel(label)
            cap.setBuddy(combo)
            filters.addWidget(cap)
            filters.addWidget(combo)
            filters.addSpacing(8)
        self.folder_combo.activated.connect(self._folder_chosen)
        for combo in (self.source_combo, self.date_combo, self.sort_combo):
            combo.currentIndexChanged.connect(self.run_search)
        filters.addStretch(1)
        self.count_label = QLabel()
        self.count_label.setObjectName("count")
        filters.addWidget(self.count_label)
        lay.addWidget(self.filter_bar)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.list_stack = QStackedWidget()
        self.model = ResultsModel(self.backend.thumbnails, self)
        self.model.more_wanted.connect(self._more)
        self.results_view = QListView()
        self.results_view.setObjectName("results")
        self.results_view.setModel(self.model)
        labels = {"gone": self.tr("file gone"), "folder": self.tr("Folder"), "screenshot": self.tr("Screenshot"),
                  "import": self.tr("Imported"), "api": self.tr("API"), "web": self.tr("Web page")}
        self.results_view.setItemDelegate(ResultDelegate(self.backend.thumbnails, labels, self.results_view))
        self.results_view.setUniformItemSizes(True)
        self.results_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.results_view.selectionModel().currentChanged.connect(self._current_changed)
        self.list_stack.addWidget(self.results_view)

        self.empty_box = QWidget()
        el = QVBoxLayout(self.empty_box)
        el.addStretch(1)
        self.empty_label = QLabel()
        self.empty_label.setObjectName("emptyResults")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        el.addWidget(self.empty_label)
        self.empty_button = QPushButton(self.tr("Choose folders to watch…"))
        self.empty_button.clicked.connect(self.settings_requested)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.empty_button)
        row.addStretch(1)
        el.addLayout(row)
        el.addStretch(2)
        self.list_stack.addWidget(self.empty_box)
        self._list_widget: QWidget = self.results_view  # what list mode shows: the results or the empty state

        self.timeline = TimelineModel(self.backend.reader, self)
        self.timeline_view = TimelineView(self.timeline, self.backend.thumbnails)
        self.timeline_view.setObjectName("timeline")
        self.timeline_view.current_changed.connect(self._timeline_current)
        self.timeline_view.activated.connect(self._timeline_activated)
        self.list_stack.addWidget(self.timeline_view)

        self.ask_all = AskAllPanel(self.backend)
        self.ask_all.image_requested.connect(self.show_image)
        self.ask_all.answered.connect(self._memory_answered)
        self.list_stack.addWidget(self.ask_all)
        split.addWidget(self.list_stack)

        self.detail = DetailPane(self.backend)
        self.detail.forget_requested.connect(self._forget)
        self.detail.describe_requested.connect(self.backend.describe_again)
        self.detail.message.connect(lambda text: self.statusBar().showMessage(text, 4000))
        split.addWidget(self.detail)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 6)
        split.setSizes([520, 700])
        lay.addWidget(split, 1)
        self.status_label = QLabel()
        self.statusBar().addWidget(self.status_label, 1)

        focus = QAction(self)
        focus.setShortcuts([QKeySequence(QKeySequence.StandardKey.Find), QKeySequence("Ctrl+L")])
        focus.triggered.connect(self.focus_query)
        self.addAction(focus)
        paste = QAction(self)
        paste.setShortcut(QKeySequence(QKeySequence.StandardKey.Paste))
        paste.triggered.connect(self.paste)
        self.addAction(paste)
        self._watch_inputs()

    # --- modes: list, timeline, ask all ---------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self.mode_buttons[mode].setChecked(True)
        self.filter_bar.setVisible(mode == "list")
        if mode == "list":
            self.list_stack.setCurrentWidget(self._list_widget)
            self.detail.set_highlight(self.page.query if self.page else "")
        elif mode == "timeline":
            self.list_stack.setCurrentWidget(self.timeline_view)
            self.detail.set_highlight("")
            if self._timeline_stale:
                self._timeline_stale = False
                self.timeline.reload()
            self.timeline_view.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.list_stack.setCurrentWidget(self.ask_all)
            self.ask_all.focus_question()
        self.mode_changed.emit(mode)

    def _timeline_current(self, image_id: int) -> None:
        self.detail.load(image_id)

    def _timeline_activated(self, image_id: int) -> None:
        if self.detail.ask_panel is not None:
            self.detail.ask_about(image_id)

    def _memory_answered(self, answer) -> None:
        self.detail.set_highlight(" ".join(answer.terms + answer.rewritten))

    # --- drops and pastes: new images to ask about ----------------------------------------
    def _watch_inputs(self) -> None:
        """Text boxes take dropped or pasted text; files and images go to the window instead."""
        from PySide6.QtWidgets import QLineEdit

        for edit in self.findChildren(QLineEdit):
            if id(edit) not in self._watched_inputs:
                self._watched_inputs.add(id(edit))
                edit.installEventFilter(self)

    def showEvent(self, event):
        self._watch_inputs()  # the Ask panel is added after the window is built
        super().showEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            if importable(event.mimeData()):  # type: ignore[attr-defined]
                (self.dropEvent if kind == QEvent.Type.Drop else self.dragEnterEvent)(event)
                return True
        elif kind == QEvent.Type.KeyPress and event.matches(QKeySequence.StandardKey.Paste):  # type: ignore[attr-defined]
            mime = QGuiApplication.clipboard().mimeData()
            if mime is not None and (dropped_files(mime) or (mime.hasImage() and not mime.hasText())):
                self.paste()
                return True
        return super().eventFilter(obj, event)

    def dragEnterEvent(self, event):
        if importable(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        self.dragEnterEvent(event)

    def dropEvent(self, event):
        if self.import_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def paste(self) -> bool:
        """Ctrl+V: an image (or image files) on the clipboard is indexed and opened to ask about."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not self.import_mime(mime):
            self.statusBar().showMessage(self.tr("There is no image on the clipboard."), 4000)
            return False
        return True

    def import_mime(self, mime: QMimeData) -> bool:
        """Index the files or the image in ``mime``; the first is then shown with the ask box focused."""
        paths = dropped_files(mime)
        if paths:
            self.statusBar().showMessage(self.tr("Adding 1 image…") if len(paths) == 1
                                         else self.tr("Adding {n} images…").format(n=len(paths)))
            self.backend.import_files(paths, self._imported, self._import_failed)
            return True
        if mime.hasImage():
            image = QImage(mime.imageData())
            if image.isNull():
                return False
            self.statusBar().showMessage(self.tr("Adding the pasted image…"))
            self.backend.import_image(png_bytes(image), on_done=self._imported, on_error=self._import_failed)
            return True
        return False

    def _imported(self, outcomes: list) -> None:
        ids = [o.image_id for o in outcomes if o.image_id is not None]
        failed = [o for o in outcomes if o.image_id is None]
        if failed:
            o = failed[0]
            name = display_path(os.path.basename(o.path)) if o.path else self.tr("the image")
            self.statusBar().showMessage(self.tr("Could not add {name}: {error}").format(
                name=name, error=o.error or o.reason or o.status), 10_000)
        elif ids:
            self.statusBar().showMessage(self.tr("Added 1 image: ask about it below") if len(ids) == 1 else
                                         self.tr("Added {n} images: ask about the first below").format(n=len(ids)),
                                         6000)
        if ids:
            self.ask_about(ids[0])
        self.imported.emit(ids)

    def _import_failed(self, error: BaseException) -> None:
        self.statusBar().showMessage(self.tr("Could not add the image: {error}").format(error=error), 10_000)

    def ask_about(self, image_id: int) -> None:
        """Show the image with the ask box focused (after a drop or a paste)."""
        row = self.model.row_of(image_id)
        if row >= 0 and self.mode == "list":
            self.select_row(row)
        else:
            self.results_view.clearSelection()
        self.detail.ask_about(image_id)
        self.raise_()
        self.activateWindow()

    def add_app_menu(self, title: str, actions: list[QAction | None]) -> None:
        """The app's actions (capture, pause, settings, quit) in the window's menu bar."""
        menu = self.menuBar().addMenu(title)
        for a in actions:
            menu.addSeparator() if a is None else menu.addAction(a)

    def _fill_folders(self, extra: str | None = None) -> None:
        current = self.folder_combo.currentData()
        self.folder_combo.blockSignals(True)
        self.folder_combo.clear()
        self.folder_combo.addItem(self.tr("All folders"), None)
        folders = self.backend.settings.view.watch.folders
        for f in [extra] + folders if extra and extra not in folders else folders:
            self.folder_combo.addItem(f, f)
            self.folder_combo.setItemData(self.folder_combo.count() - 1, f, Qt.ItemDataRole.ToolTipRole)
        self.folder_combo.addItem(self.tr("Choose folder…"), "__choose__")
        i = self.folder_combo.findData(extra or current)
        self.folder_combo.setCurrentIndex(max(i, 0))
        self.folder_combo.blockSignals(False)

    # --- searching ------------------------------------------------------------------------
    def focus_query(self) -> None:
        self.query_edit.setFocus()
        self.query_edit.selectAll()

    def set_query(self, text: str) -> None:
        """Show ``text`` in the search box and search now (e.g. ``vlagent gui --search``)."""
        self.query_edit.setText(text)
        self.run_search()

    def filters(self) -> Filters:
        days = self.date_combo.currentData()
        since = None
        if days is not None:
            midnight = time.mktime(time.localtime()[:3] + (0, 0, 0, 0, 0, -1))
            since = midnight - days * DAY
        folder = self.folder_combo.currentData()
        return Filters(source=self.source_combo.currentData(), folder=folder if folder != "__choose__" else None,
                       since=since)

    def _edited(self, _text: str) -> None:
        if self.mode != "list":
            self.set_mode("list")
            self.query_edit.setFocus()
        self._debounce.start()

    def run_search(self, *_args, limit: int = PAGE_SIZE, keep_scroll: bool = False) -> None:
        self._debounce.stop()
        query, filters, sort = self.query_edit.text(), self.filters(), self.sort_combo.currentData()
        scroll = self.results_view.verticalScrollBar().value() if keep_scroll else None

        def show(page: ResultPage) -> None:
            self._show_page(page)
            if scroll is not None:
                self.results_view.verticalScrollBar().setValue(scroll)

        self.backend.reader.submit(lambda index: fetch_page(index, query, filters, sort, limit=limit),
                                   show, self._search_failed, key="search")

    def refresh(self) -> None:
        """Run the visible query again (new images may match), keeping as many rows, the
        selection and the scroll position."""
        self.run_search(limit=max(PAGE_SIZE, len(self.model.records)), keep_scroll=True)
        if self.mode == "timeline" and self._timeline_stale:
            self._timeline_stale = False
            self.timeline.reload()

    def _more(self) -> None:
        if self.page is None:
            return
        query, filters, sort = self.page.query, self.filters(), self.sort_combo.currentData()
        offset = len(self.model.records)
        self.backend.reader.submit(lambda index: fetch_page(index, query, filters, sort, offset=offset),
                                   self._append_page, key="search")

    def _show_page(self, page: ResultPage) -> None:
        selected = self.selected_id()
        self.page = page
        self.model.set_page(page)
        self._update_count(page)
        if self.mode == "list":
            self.detail.set_highlight(page.query)
        if page.records:
            self._show_list(self.results_view)
            row = self.model.row_of(selected) if selected is not None else -1
            if row >= 0:
                self.results_view.selectionModel().setCurrentIndex(
                    self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect)
            elif selected is not None and self.mode == "list":
                self.detail.show_empty()
        else:
            self._show_empty_state(page)
        self.results_shown.emit(page)

    def _append_page(self, page: ResultPage) -> None:
        self.model.append_page(page)
        self.page = page
        self._update_count(page)

    def _search_failed(self, error: BaseException) -> None:
        self.count_label.setText(self.tr("Search failed: {error}").format(error=error))

    def _update_count(self, page: ResultPage) -> None:
        n = len(self.model.records)
        if not page.query.strip():
            text = self.tr("Most recent") if n else ""
        elif page.total is not None and page.total >= n:
            text = self.tr("1 result") if page.total == 1 else self.tr("{n} results").format(n=page.total)
        else:
            text = self.tr("{n}+ results").format(n=n) if self.model.more else (
                self.tr("1 result") if n == 1 else self.tr("{n} results").format(n=n))
        self.count_label.setText(text)

    def _show_list(self, widget: QWidget) -> None:
        self._list_widget = widget
        if self.mode == "list":
            self.list_stack.setCurrentWidget(widget)

    def _show_empty_state(self, page: ResultPage) -> None:
        self._show_list(self.empty_box)
        if self.mode == "list":
            self.detail.show_empty()
        nothing_indexed = not page.query.strip() and not self._filtered()
        if nothing_indexed:
            self.empty_label.setText(self.tr(
                "<h3>Nothing indexed yet</h3><p>Choose folders to watch, or capture the screen: "
                "everything vlagent sees becomes searchable here.</p>"))
        elif page.query.strip():
            self.empty_label.setText(self.tr("<h3>No results for “{query}”</h3><p>Try fewer words, "
                                             "or other filters.</p>").format(query=html.escape(page.query.strip())))
        else:
            self.empty_label.setText(self.tr("<h3>No images match these filters</h3>"))
        self.empty_button.setVisible(nothing_indexed)

    def _filtered(self) -> bool:
        f = self.filters()
        return bool(f.source or f.folder or f.since)

    # --- selection and changes ----------------------------------------------------------
    def selected_id(self) -> int | None:
        ix = self.results_view.currentIndex()
        return self.model.records[ix.row()]["id"] if ix.isValid() and ix.row() < len(self.model.records) else None

    def select_row(self, row: int) -> None:
        self.results_view.selectionModel().setCurrentIndex(self.model.index(row),
                                                           QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def show_image(self, image_id: int) -> None:
        """Select the image when it is listed; otherwise show it in the detail pane anyway."""
        row = self.model.row_of(image_id)
        if row >= 0:
            self.select_row(row)
        else:
            self.results_view.clearSelection()
            self.detail.load(image_id)

    def _current_changed(self, current, _previous) -> None:
        if current.isValid():
            self.detail.load(self.model.records[current.row()]["id"])

    def _folder_chosen(self, index: int) -> None:
        if self.folder_combo.itemData(index) == "__choose__":
            folder = QFileDialog.getExistingDirectory(self, self.tr("Only images under this folder"))
            self._fill_folders(folder or None)
        self.run_search()

    def _forget(self, image_id: int) -> None:
        self.backend.forget(image_id)

    def _image_forgotten(self, image_id: int) -> None:
        self._timeline_stale = True
        row = self.model.row_of(image_id)
        if row >= 0:
            self.model.remove_image(image_id)
        if self.detail.image_id == image_id:
            self.detail.show_empty()

    def _image_changed(self, image_id: int) -> None:
        if self.detail.image_id == image_id:
            self.detail.reload()

    def _index_changed(self) -> None:
        self._timeline_stale = True
        if not self._refresh.isActive():
            self._refresh.start()

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def settings_changed(self, key: str) -> None:
        if key == "watch.folders":
            self._fill_folders()

    def closeEvent(self, event):
        if self.quit_on_close:
            from PySide6.QtWidgets import QApplication

            QApplication.quit()
        super().closeEvent(event)


