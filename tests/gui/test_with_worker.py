"""The app with its real background worker (and, for questions, the tiny model checkpoint): asking streams an
answer that is stored and searchable, describing shows the description, settings changes
reach the worker, a watched folder's new image shows up in the open search window, and the
tray follows the worker's state."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading

from PySide6.QtWidgets import QApplication

from tests.conftest import searchable_words
from tests.gui.conftest import WAIT, wait_for_query


def select(qtbot, app, query: str) -> int:
    window = app.show_window(query=query)
    wait_for_query(qtbot, window, query)
    window.select_row(0)
    qtbot.waitUntil(lambda: window.detail.detail is not None and window.detail.detail["id"] ==
                    window.model.records[0]["id"])
    return window.model.records[0]["id"]


def test_ask_streams_an_answer_that_is_stored_and_searchable(qtbot, model_app, gui_home):
    image_id = select(qtbot, model_app, "小狗")
    window = model_app.window
    panel = window.detail.ask_panel
    window.detail.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.ask_button.isEnabled() or panel.question_edit.isEnabled(), timeout=WAIT)
    panel.question_edit.setText("Is there a zebracorn in this picture?")
    with qtbot.waitSignal(panel.answered, timeout=WAIT) as answered:
        panel.ask()
        session = panel.session
    assert answered.args[0] == image_id
    answer = answered.args[1]
    assert answer.strip() and session.pieces  # streamed, token by token
    assert "".join(session.pieces).strip() == answer
    assert answer in panel.transcript_text() and "zebracorn" in panel.transcript_text()
    conn = sqlite3.connect(gui_home.db_path)
    stored = conn.execute("SELECT prompt, text FROM results WHERE image_id = ? AND kind = 'answer'",
                          (image_id,)).fetchall()
    assert stored == [("Is there a zebracorn in this picture?", answer)]
    # The tab showing the image had the worker read it while the question was typed: the
    # answer's prompt came from that cache (a question mid-read waits for it).
    (timings,) = conn.execute("SELECT timings FROM results WHERE image_id = ? AND kind = 'answer'",
                              (image_id,)).fetchone()
    assert model_app.agent.worker.engine.get().prefix_report()["prefills"] >= 1
    assert json.loads(timings)["cached_tokens"] > 0

    # A follow-up carries the conversation.
    with qtbot.waitSignal(panel.answered, timeout=WAIT) as second:
        panel.ask("And what colour is the snow?")
    payload = json.loads(conn.execute("SELECT payload FROM jobs WHERE kind = 'ask' ORDER BY id DESC LIMIT 1")
                         .fetchone()[0])
    conn.close()
    assert payload["question"] == "And what colour is the snow?"
    assert payload["history"] == [{"role": "user", "text": "Is there a zebracorn in this picture?"},
                                  {"role": "assistant", "text": answer}]
    assert second.args[1].strip()

    # The answer is searchable: by the question's unusual word, and by a word of the answer.
    window.set_query("zebracorn")
    wait_for_query(qtbot, window, "zebracorn")
    assert [r["id"] for r in window.model.records] == [image_id]
    word = searchable_words(answer)
    window.set_query(word)
    wait_for_query(qtbot, window, word)
    assert image_id in [r["id"] for r in window.model.records]


def test_describe_again_shows_the_new_description(qtbot, model_app, gui_home):
    image_id = select(qtbot, model_app, "invoice")
    detail = model_app.window.detail
    assert detail.description_edit.toPlainText() == ""
    qtbot.waitUntil(detail.describe_button.isEnabled)
    detail.describe_button.click()
    qtbot.waitUntil(lambda: detail.description_edit.toPlainText() != "", timeout=WAIT)
    conn = sqlite3.connect(gui_home.db_path)
    (text,) = conn.execute("SELECT text FROM results WHERE image_id = ? AND kind = 'description'",
                           (image_id,)).fetchone()
    conn.close()
    assert detail.description_edit.toPlainText() == text
    kinds = [detail.timings.topLevelItem(i).text(0) for i in range(detail.timings.topLevelItemCount())]
    assert kinds == ["OCR", "Description"]


def test_settings_reach_the_worker_and_new_images_appear_in_the_open_window(qtbot, agent_app, tmp_path,
                                                                               indexed_root):
    qtbot.waitUntil(lambda: agent_app.tray.state == "idle", timeout=WAIT)
    window = agent_app.show_window(query="")
    wait_for_query(qtbot, window, "")
    assert len(window.model.records) == 4

    dialog = agent_app.open_settings()
    dialog.fields["privacy.paused"].set_value(True)
    dialog.accept()
    qtbot.waitUntil(lambda: agent_app.agent.worker.paused and agent_app.tray.state == "paused")
    assert agent_app.tray.tooltip.startswith("vlagent — Paused")

    folder = tmp_path / "watched"
    folder.mkdir()
    dialog = agent_app.open_settings()
    dialog.fields["privacy.paused"].set_value(False)
    dialog.fields["watch.folders"].add_items([str(folder)])
    dialog.accept()
    shutil.copy(indexed_root.parent / "pics" / "note_invoice.png", folder / "copy.png")
    from vlagent.samples import text_image

    text_image(["Quarterly revenue grew 12%", "本季度营业收入增长"], font_size=30).save(folder / "revenue.png")
    qtbot.waitUntil(lambda: any(r["name"] == "revenue.png" for r in window.model.records), timeout=WAIT)
    window.set_query("revenue")
    wait_for_query(qtbot, window, "revenue")
    qtbot.waitUntil(lambda: [r["name"] for r in window.model.records] == ["revenue.png"], timeout=WAIT)
    assert any(state == "busy" and text.startswith("Indexing: ") for state, text in agent_app.states)
    qtbot.waitUntil(lambda: agent_app.tray.state == "idle", timeout=WAIT)


def test_the_tray_says_when_the_model_loads(qtbot, model_app):
    qtbot.waitUntil(lambda: model_app.status is not None, timeout=WAIT)
    # The worker runs its inbox in order: held behind this gate, the load cannot end (and the
    # tray leave "loading") before the state is read, however fast the tiny model loads.
    gate = threading.Event()
    model_app.agent.worker.call_soon(lambda: gate.wait(60))
    try:
        with qtbot.waitSignal(model_app.agent.model_loaded, timeout=WAIT) as loaded:
            model_app.agent.preload_model()
            assert model_app.state_text() == ("loading", "Loading the model…")
            assert not model_app.agent.worker.engine.loaded
            gate.set()
    finally:
        gate.set()
    assert loaded.args == [True]
    qtbot.waitUntil(lambda: model_app.state_text() == ("idle", "Idle · model loaded"), timeout=WAIT)


def test_tray_state_from_the_worker_status():
    from vlagent.gui.agent_bridge import tray_state
    from vlagent.worker import WorkerStatus

    assert tray_state(None, False) == "loading"  # the worker is starting
    assert tray_state(WorkerStatus(state="idle"), False) == "idle"
    assert tray_state(WorkerStatus(state="busy", queued=12, current={"kind": "ocr"}), False) == "busy"
    assert tray_state(WorkerStatus(state="busy", current={"kind": "describe"}, model_loaded=False), False) == "loading"
    assert tray_state(WorkerStatus(state="busy", current={"kind": "ask"}, model_loaded=True), False) == "busy"
    assert tray_state(WorkerStatus(state="idle"), False, loading_model=True) == "loading"
    assert tray_state(WorkerStatus(state="paused"), True) == "paused"
    assert tray_state(WorkerStatus(state="stopped", error="RuntimeError: disk full"), False) == "error"


def test_a_worker_that_stops_on_an_error_turns_the_tray_red_and_says_why(qtbot, gui_home, gui_settings):
    from vlagent.gui.agent_bridge import AgentBridge
    from vlagent.gui.app import DesktopApp
    from vlagent.worker import WorkerStatus

    bridge = AgentBridge(gui_home, gui_settings)
    app = DesktopApp(QApplication.instance(), gui_home, gui_settings, agent=bridge, tray=True, hotkey=False)
    with qtbot.waitSignal(app.notified) as note:
        bridge._on_status(WorkerStatus(state="stopped", error="RuntimeError: disk full"))  # the worker's listener
    assert app.tray.state == "error" and app.tray.tooltip == "vlagent — Error: RuntimeError: disk full"
    assert note.args == ["The background worker stopped", "RuntimeError: disk full", True]
    app.shutdown()
