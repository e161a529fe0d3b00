"""The app's Forget does what ``vlagent forget`` does: the file stays out of the index (the
watcher and folder scans skip it) while it is unchanged."""

from __future__ import annotations

import sqlite3

from tests.gui.conftest import wait_for_query


def test_forget_in_the_app_keeps_the_file_out(qtbot, search_window, gui_home, gui_settings, indexed_root):
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import FORGOTTEN, SKIPPED, Ingestor

    search_window.set_query("invoice")
    wait_for_query(qtbot, search_window, "invoice")
    image_id = search_window.model.records[0]["id"]
    with qtbot.waitSignal(search_window.backend.image_forgotten, timeout=10_000):
        search_window.detail.forget_requested.emit(image_id)
    path = str(indexed_root.parent / "pics" / "note_invoice.png")
    conn = sqlite3.connect(gui_home.db_path)
    assert conn.execute("SELECT path FROM forgotten").fetchall() == [(path,)]
    conn.close()

    index = Index.open(gui_home)
    try:  # what the watcher's start-up scan does with it
        out = Ingestor(index, gui_settings, gui_home).ingest_path(path, source="folder", skip_forgotten=True)
    finally:
        index.close()
    assert (out.status, out.reason) == (SKIPPED, FORGOTTEN)
