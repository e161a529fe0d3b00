"""The search window: search as you type over everything vlagent has seen, filters, sort,
the result list and the detail pane of the selected image.

Every query runs on the backend's reader thread (its own index connection); while typing,
only the newest query runs (older ones still queued are dropped).
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
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
    QVBoxLayout,
    QWidget,
)

from vlagent.gui.detail import DetailPane
from vlagent.gui.icons import app_icon
from vlagent.gui.results import PAGE_SIZE, ResultDelegate, ResultPage, ResultsModel, fetch_page
from vlagent.index.search import Filters

DEBOUNCE_MS = 60
REFRESH_MS = 1500  # after new results arrive in the index, re-run the visible query at most this often
DAY = 86400


class SearchWindow(QMainWindow):
    results_shown = Signal(object)  # the ResultPage now on screen
    settings_requested = Signal()

    def __init__(self, backend, parent=None):
        super().__init__(parent)
        self.backend = backend
        self.setWindowTitle(self.tr("vlagent — search"))
        self.setWindowIcon(app_icon())
        self.resize(1240, 780)
        self.quit_on_close = False
        self.page: ResultPage | None = None
        self._build()
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
        lay.addLayout(bar)

        filters = QHBoxLayout()
        self.source_combo = QComboBox()
        for label, value in ((self.tr("All sources"), None), (self.tr("Folders"), "folder"),
                             (self.tr("Screenshots"), "screenshot"), (self.tr("Imported"), "import"),
                             (self.tr("API"), "api")):
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
        lay.addLayout(filters)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.list_stack = QStackedWidget()
        self.model = ResultsModel(self.backend.thumbnails, self)
        self.model.more_wanted.connect(self._more)
        self.results_view = QListView()
        self.results_view.setObjectName("results")
        self.results_view.setModel(self.model)
        labels = {"gone": self.tr("file gone"), "folder": self.tr("Folder"), "screenshot": self.tr("Screenshot"),
                  "import": self.tr("Imported"), "api": self.tr("API")}
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
        split.addWidget(self.list_stack)

        self.detail = DetailPane(self.backend)
        self.detail.forget_requested.connect(self._forget)
        self.detail.describe_requested.connect(self.backend.describe_again)
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
        if page.records:
            self.list_stack.setCurrentWidget(self.results_view)
            row = self.model.row_of(selected) if selected is not None else -1
            if row >= 0:
                self.results_view.selectionModel().setCurrentIndex(
                    self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect)
            elif selected is not None:
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

    def _show_empty_state(self, page: ResultPage) -> None:
        self.list_stack.setCurrentWidget(self.empty_box)
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
        row = self.model.row_of(image_id)
        if row >= 0:
            self.model.remove_image(image_id)
        if self.detail.image_id == image_id:
            self.detail.show_empty()

    def _image_changed(self, image_id: int) -> None:
        if self.detail.image_id == image_id:
            self.detail.reload()

    def _index_changed(self) -> None:
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


