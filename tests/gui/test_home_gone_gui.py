"""The desktop app whose data home is deleted while it runs: the tray turns red and says the
index is gone, a notification says it once, and no new home is made behind the user's back."""

from __future__ import annotations

import shutil

from tests.gui.conftest import WAIT
from vlagent.index.db import IndexGone


def test_the_tray_says_the_index_is_gone(qtbot, agent_app, gui_home):
    qtbot.waitUntil(lambda: agent_app.tray.state == "idle", timeout=WAIT)
    notes = []
    agent_app.notified.connect(lambda title, message, error: notes.append((title, message, error)))
    writer = agent_app.backend.writer
    opened = []
    writer.submit(lambda index: index is not None, opened.append)  # the app's write connection, open
    qtbot.waitUntil(lambda: opened == [True])
    shutil.rmtree(gui_home.root)
    qtbot.waitUntil(lambda: agent_app.tray.state == "error", timeout=30_000)
    assert "is gone" in agent_app.tray.tooltip and agent_app.tray.tooltip.startswith("vlagent — Error: the index ")
    qtbot.waitUntil(lambda: not agent_app.agent.worker.running and not agent_app.agent.agent.watcher.running,
                    timeout=30_000)
    errors = [n for n in notes if n[2]]
    assert len(errors) == 1 and "is gone" in errors[0][1], notes
    # A write asked for now fails with the reason instead of going into the lost file.
    failed = []
    writer.submit(lambda index: index.forget(1, keep_out=True), on_error=failed.append)
    qtbot.waitUntil(lambda: len(failed) == 1)
    assert isinstance(failed[0], IndexGone)
    assert not gui_home.root.exists()
