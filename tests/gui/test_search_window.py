"""The search window over a real index: search as you type, snippets, filters, the detail
pane (OCR text, copy, files, timings), forgetting, empty states."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QInputMethodEvent
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import wait_for_query
from vlagent.gui.results import snippet_html
from vlagent.index.search import HL_END, HL_START


def names(window) -> list[str]:
    return [r["name"] for r in window.model.records]


def test_typing_a_query_shows_matching_images_with_highlighted_snippets(qtbot, search_window):
    qtbot.keyClicks(search_window.query_edit, "invoice")
    page = wait_for_query(qtbot, search_window, "invoice")
    assert names(search_window) == ["note_invoice.png"]
    snippet = search_window.model.records[0]["snippet"]
    assert HL_START in snippet and HL_END in snippet
    marked = snippet[snippet.index(HL_START) + 1: snippet.index(HL_END)]
    assert marked.lower() == "invoice"
    assert f">{marked}</span>" in snippet_html(snippet)
    assert search_window.count_label.text() == "1 result"
    assert page.records[0]["path"].endswith("note_invoice.png")


def type_with_input_method(widget, text: str) -> None:
    """Chinese arrives from an input method as committed text, not as key presses."""
    for ch in text:
        event = QInputMethodEvent()
        event.setCommitString(ch)
        QApplication.sendEvent(widget, event)


def test_two_character_chinese_query(qtbot, search_window):
    search_window.query_edit.setFocus()
    type_with_input_method(search_window.query_edit, "小狗")
    wait_for_query(qtbot, search_window, "小狗")
    assert names(search_window) == ["note_dog.png"]
    snippet = search_window.model.records[0]["snippet"]
    assert f"{HL_START}小狗{HL_END}" in snippet.replace(HL_END + HL_START, "")


def test_only_the_last_query_typed_is_shown(qtbot, search_window):
    for text in ("e", "er", "err", "erro", "error"):
        search_window.query_edit.setText(text)
        search_window.run_search()
    wait_for_query(qtbot, search_window, "error")
    assert names(search_window) == ["note_error.png"]


def test_empty_query_lists_recent_images_and_no_match_says_so(qtbot, search_window):
    search_window.run_search()
    wait_for_query(qtbot, search_window, "")
    assert sorted(names(search_window)) == ["note_dog.png", "note_error.png", "note_invoice.png", "photo_hills.jpg"]
    search_window.set_query("zebra")
    wait_for_query(qtbot, search_window, "zebra")
    assert search_window.model.records == []
    assert search_window.list_stack.currentWidget() is search_window.empty_box
    assert "zebra" in search_window.empty_label.text()
    assert not search_window.empty_button.isVisible()


def test_source_filter(qtbot, search_window):
    search_window.set_query("")
    wait_for_query(qtbot, search_window, "")
    assert len(search_window.model.records) == 4
    search_window.source_combo.setCurrentIndex(search_window.source_combo.findData("screenshot"))
    qtbot.waitUntil(lambda: search_window.model.records == [])
    assert "filters" in search_window.empty_label.text()
    search_window.source_combo.setCurrentIndex(search_window.source_combo.findData("folder"))
    qtbot.waitUntil(lambda: len(search_window.model.records) == 4)


def test_selecting_shows_the_ocr_text_and_copy_puts_it_on_the_clipboard(qtbot, search_window):
    search_window.set_query("connection")
    wait_for_query(qtbot, search_window, "connection")
    search_window.select_row(0)
    detail = search_window.detail
    qtbot.waitUntil(lambda: detail.detail is not None and detail.image_view.has_image)
    assert detail.ocr_text() == "Error: connection refused\n数据库连接失败"
    assert detail.title.text() == "<b>note_error.png</b>"
    assert detail.paths.count() == 1 and detail.paths.item(0).text().endswith("note_error.png")
    assert detail.timings.topLevelItemCount() == 1
    assert detail.timings.topLevelItem(0).text(0) == "OCR"
    assert detail.timings.topLevelItem(0).text(2).endswith("ms")
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(detail.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "Error: connection refused\n数据库连接失败"


def test_a_photo_without_text_says_so(qtbot, search_window):
    search_window.set_query("photo_hills")
    wait_for_query(qtbot, search_window, "photo_hills")
    search_window.select_row(0)
    detail = search_window.detail
    qtbot.waitUntil(lambda: detail.detail is not None)
    assert detail.ocr_text() == ""
    assert detail.ocr_edit.placeholderText()
    assert not detail.copy_button.isEnabled()


def test_forget_removes_the_image_from_the_list_and_the_index(qtbot, search_window, gui_home):
    search_window.set_query("invoice")
    wait_for_query(qtbot, search_window, "invoice")
    image_id = search_window.model.records[0]["id"]
    search_window.select_row(0)
    qtbot.waitUntil(lambda: search_window.detail.image_id == image_id and search_window.detail.detail is not None)
    with qtbot.waitSignal(search_window.backend.image_forgotten, timeout=10_000):
        search_window.detail.forget_requested.emit(image_id)
    assert search_window.model.records == []
    assert search_window.detail.stack.currentWidget() is search_window.detail.empty
    conn = sqlite3.connect(gui_home.db_path)
    assert conn.execute("SELECT count(*) FROM images WHERE id = ?", (image_id,)).fetchone()[0] == 0
    conn.close()
    search_window.refresh()
    qtbot.waitUntil(lambda: search_window.page.query == "invoice" and search_window.model.records == [])


def test_nothing_indexed_yet_offers_to_choose_folders(qtbot, tmp_path):
    from vlagent.gui.backend import Backend
    from vlagent.gui.search_window import SearchWindow
    from vlagent.home import Home
    from vlagent.settings import Settings

    home = Home(tmp_path / "empty-home")
    backend = Backend(home, Settings())
    window = SearchWindow(backend)
    qtbot.addWidget(window)
    window.show()
    try:
        window.run_search()
        wait_for_query(qtbot, window, "")
        assert window.list_stack.currentWidget() is window.empty_box
        assert "Nothing indexed yet" in window.empty_label.text()
        assert window.empty_button.isVisible()
        with qtbot.waitSignal(window.settings_requested):
            qtbot.mouseClick(window.empty_button, Qt.MouseButton.LeftButton)
        assert not home.db_path.exists()  # searching never creates an index
    finally:
        backend.stop()


def test_open_and_show_in_folder_hand_the_file_to_the_desktop(qtbot, search_window):
    from PySide6.QtCore import QObject, Slot
    from PySide6.QtGui import QDesktopServices

    class Desktop(QObject):  # stands in for the file manager: records what it is asked to open
        def __init__(self):
            super().__init__()
            self.opened = []

        @Slot("QUrl")
        def open(self, url):
            self.opened.append(url.toLocalFile())

    desktop = Desktop()
    QDesktopServices.setUrlHandler("file", desktop, "open")
    try:
        search_window.set_query("invoice")
        wait_for_query(qtbot, search_window, "invoice")
        search_window.select_row(0)
        detail = search_window.detail
        qtbot.waitUntil(lambda: detail.detail is not None)
        path = detail.detail["path"]
        qtbot.mouseClick(detail.open_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(detail.folder_button, Qt.MouseButton.LeftButton)
        assert desktop.opened == [path, str(Path(path).parent)]
    finally:
        QDesktopServices.unsetUrlHandler("file")


def test_a_name_with_escapes_and_bytes_that_are_not_utf8_is_shown_escaped(qtbot, search_window, gui_home,
                                                                          gui_settings, tmp_path):
    """Labels never carry a name's raw control characters or undecodable bytes: the list, its
    tooltip, the detail title and the files list show vlagent.common.display_path's form."""
    import os

    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.samples import photo_like

    raw = os.path.join(os.fsencode(tmp_path), b"zebra_\xff\x1b[31m\n.png")
    photo_like(90, 60, seed=77).save(os.fsdecode(raw))
    index = Index.open(gui_home)
    try:
        assert Ingestor(index, gui_settings, gui_home).ingest_path(os.fsdecode(raw), steps=[]).status == "new"
    finally:
        index.close()
    search_window.set_query("zebra")
    wait_for_query(qtbot, search_window, "zebra")
    assert names(search_window) == ["zebra_\\xff\\x1b[31m\\x0a.png"]
    model = search_window.model
    assert model.data(model.index(0), Qt.ItemDataRole.ToolTipRole) == f"{tmp_path}/zebra_\\xff\\x1b[31m\\x0a.png"
    search_window.select_row(0)
    detail = search_window.detail
    qtbot.waitUntil(lambda: detail.detail is not None)
    assert detail.title.text() == "<b>zebra_\\xff\\x1b[31m\\x0a.png</b>"
    assert detail.paths.item(0).text() == f"{tmp_path}/zebra_\\xff\\x1b[31m\\x0a.png"
    assert os.fsencode(detail.detail["path"]) == raw  # what the buttons open: the real file


def test_double_clicking_a_file_opens_the_real_path_not_the_shown_one(qtbot, search_window, gui_home, gui_settings,
                                                                      tmp_path):
    from PySide6.QtCore import QObject, Slot
    from PySide6.QtGui import QDesktopServices

    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.samples import photo_like

    path = str(tmp_path / "yak_\x1b]0;title\x07.png")
    photo_like(90, 60, seed=78).save(path)
    index = Index.open(gui_home)
    try:
        assert Ingestor(index, gui_settings, gui_home).ingest_path(path, steps=[]).status == "new"
    finally:
        index.close()

    class Desktop(QObject):
        def __init__(self):
            super().__init__()
            self.opened = []

        @Slot("QUrl")
        def open(self, url):
            self.opened.append(url.toLocalFile())

    desktop = Desktop()
    QDesktopServices.setUrlHandler("file", desktop, "open")
    try:
        search_window.set_query("yak")
        wait_for_query(qtbot, search_window, "yak")
        search_window.select_row(0)
        detail = search_window.detail
        qtbot.waitUntil(lambda: detail.detail is not None)
        item = detail.paths.item(0)
        assert item.text() == str(tmp_path / "yak_\\x1b]0;title\\x07.png")
        detail.paths.itemDoubleClicked.emit(item)
        assert desktop.opened == [path]
    finally:
        QDesktopServices.unsetUrlHandler("file")
