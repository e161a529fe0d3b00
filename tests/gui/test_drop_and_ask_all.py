"""With the app's real worker (the tiny model checkpoint): image files dropped on the window
and an image pasted with Ctrl+V are indexed (their OCR queued, then read) and opened with the
ask box focused; Ask all streams an answer over everything seen and its sources open their
images. Without a model, Ask all lists the images that match."""

from __future__ import annotations

import re
import sqlite3

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import WAIT, wait_for_query
from vlagent.gui.ask_all import linked_answer


def drop_files(window, paths) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()
    return drop


def ask_box_focused_on(qtbot, window, image_id: int) -> None:
    detail, panel = window.detail, window.detail.ask_panel
    qtbot.waitUntil(lambda: detail.image_id == image_id and panel.image_id == image_id
                    and detail.tabs.currentWidget() is panel and window.focusWidget() is panel.question_edit,
                    timeout=WAIT)
    assert panel.question_edit.isEnabled()


def test_dropped_files_and_a_pasted_image_are_indexed_and_opened_to_ask_about(qtbot, model_app, tmp_path,
                                                                                 gui_home):
    from vlagent.samples import text_image

    window = model_app.show_window(query="")
    wait_for_query(qtbot, window, "")
    paths = [tmp_path / "receipt.png", tmp_path / "ticket.png"]
    text_image(["Receipt 7731", "Paid 18.20 EUR"], font_size=30).save(paths[0])
    text_image(["Boarding pass", "登机牌 Gate 12"], font_size=30).save(paths[1])
    (tmp_path / "notes.txt").write_text("not an image")
    assert window.detail.tabs.currentWidget() is not window.detail.ask_panel

    with qtbot.waitSignal(window.imported, timeout=WAIT) as imported:
        drop_files(window, paths)
    ids = imported.args[0]
    assert len(ids) == 2
    ask_box_focused_on(qtbot, window, ids[0])
    conn = sqlite3.connect(gui_home.db_path)
    rows = conn.execute("SELECT i.source, l.path FROM images i JOIN locations l ON l.image_id = i.id "
                        "WHERE i.id IN (?, ?) ORDER BY i.id", ids).fetchall()
    assert rows == [("import", str(paths[0])), ("import", str(paths[1]))]
    # Their text is read by the worker, as a capture's is, and shows in the open window.
    qtbot.waitUntil(lambda: "Receipt 7731" in window.detail.ocr_text(), timeout=WAIT)
    window.set_query("登机牌")
    wait_for_query(qtbot, window, "登机牌")
    qtbot.waitUntil(lambda: [r["id"] for r in window.model.records] == [ids[1]], timeout=WAIT)

    # Something that is not an image is refused with a reason, nothing else happens.
    with qtbot.waitSignal(window.imported, timeout=WAIT) as refused:
        drop_files(window, [tmp_path / "notes.txt"])
    assert refused.args[0] == [] and "notes.txt" in window.statusBar().currentMessage()

    # Ctrl+V in the search box with an image on the clipboard (a screenshot tool's copy).
    image = QImage(str(paths[0])).convertToFormat(QImage.Format.Format_RGB32)
    image.invertPixels()  # other pixels: a new image
    QGuiApplication.clipboard().setImage(image)
    window.query_edit.setFocus()
    with qtbot.waitSignal(window.imported, timeout=WAIT) as pasted:
        qtbot.keyClick(window.query_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    (pasted_id,) = pasted.args[0]
    assert pasted_id not in ids and window.query_edit.text() == "登机牌"  # not pasted as text
    ask_box_focused_on(qtbot, window, pasted_id)
    (source, path), = conn.execute("SELECT i.source, l.path FROM images i JOIN locations l ON l.image_id = i.id "
                                   "WHERE i.id = ?", (pasted_id,)).fetchall()
    conn.close()
    assert source == "import" and path.startswith(str(gui_home.root)) and path.endswith(".png")


def test_ask_all_streams_an_answer_whose_sources_open_their_images(qtbot, model_app):
    for key, value in (("memory.answer_tokens", 16), ("memory.rewrite", False)):  # the worker reads them per question
        model_app.settings.set(key, value)
    window = model_app.show_window(query="")
    window.set_mode("ask")
    panel = window.ask_all
    assert window.list_stack.currentWidget() is panel and window.focusWidget() is panel.question_edit
    panel.question_edit.setText("What is the total due on the invoice?")
    with qtbot.waitSignal(panel.answered, timeout=WAIT) as done:
        qtbot.keyClick(panel.question_edit, Qt.Key.Key_Return)
        session = panel.session
    answer = done.args[0]
    assert answer.answered and answer.text
    assert session.pieces and "".join(session.pieces).strip() == answer.text  # streamed, token by token
    transcript = panel.transcript_text()
    assert "What is the total due on the invoice?" in transcript and answer.text in transcript
    labels = [panel.sources.item(i).text() for i in range(panel.sources.count())]
    assert labels and all(re.fullmatch(r"\[#\d+\] \S+ · \d{4}-\d\d-\d\d \d\d:\d\d", s) for s in labels), labels
    invoice = next(s for s in answer.sources if s.path and s.path.endswith("note_invoice.png"))
    row = panel.source_ids().index(invoice.id)
    assert labels[row].startswith(f"[#{invoice.id}] note_invoice.png · ")

    item = panel.sources.item(row)
    qtbot.mouseClick(panel.sources.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.sources.visualItemRect(item).center())
    detail = window.detail
    qtbot.waitUntil(lambda: detail.detail is not None and detail.detail["id"] == invoice.id, timeout=WAIT)
    assert "Total due" in detail.ocr_text()
    # The answer's search words are highlighted on the image it opened.
    qtbot.waitUntil(lambda: bool(detail.image_view.lines))
    assert detail.image_view.hit_lines


def test_citations_in_the_answer_are_links_to_their_images(qtbot, search_window):
    assert linked_answer("It was 42.50 [#3], see also [#99] & <b>", {3}) == (
        'It was 42.50 <a href="image:3">[#3]</a>, see also [#99] &amp; &lt;b&gt;')
    panel = search_window.ask_all
    with qtbot.waitSignal(panel.image_requested) as requested:
        panel.transcript.anchorClicked.emit(QUrl("image:3"))
    assert requested.args == [3]


def test_without_a_model_ask_all_lists_the_images_that_match(qtbot, search_window):
    search_window.set_mode("ask")
    panel = search_window.ask_all
    with qtbot.waitSignal(panel.answered, timeout=10_000) as done:
        panel.ask("invoice total due")
    assert not done.args[0].answered
    assert any(s.endswith("note_invoice.png · " + s.rsplit(" · ", 1)[1])
               for s in (panel.sources.item(i).text() for i in range(panel.sources.count())))
    assert "no model" in panel.transcript_text()


def test_a_memory_question_without_a_worker_fails_with_the_reason(qtbot, gui_home, gui_settings):
    from vlagent.gui.agent_bridge import AgentBridge

    bridge = AgentBridge(gui_home, gui_settings)  # never started
    session = bridge.ask_memory("anything?")
    with qtbot.waitSignal(session.failed) as failed:  # delivered after the caller connected
        pass
    assert failed.args[0].startswith("The background worker is not running")
