"""Capture from the app on a real X server (Xvfb): the region chosen on the frozen screen is
saved, read by the worker's OCR and announced; ``vlagent capture --region --ask`` from a
shell hands the capture to the running app, which asks the model about it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from tests.capture.conftest import pattern_window
from tests.conftest import REPO, cli_env
from tests.gui.conftest import WAIT, wait_for_query
from vlagent.capture import Rect

PATTERN_AT = (100, 80)
# The pattern's two lines of text (see tests/capture/pattern_window.py), in screen pixels.
TEXT_RECT = Rect(100, 230, 800, 150)



@pytest.fixture
def x_display(xvfb_display, monkeypatch):
    """mss grabs this Xvfb; Qt itself stays offscreen."""
    monkeypatch.setenv("DISPLAY", xvfb_display)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pattern_window(xvfb_display, *PATTERN_AT):
        yield xvfb_display


def choose_region(qtbot, app, rect: Rect) -> None:
    qtbot.waitUntil(lambda: app.captures.overlay is not None, timeout=WAIT)
    overlay = app.captures.overlay
    overlay.finish_with(overlay.windows[0], rect)


def test_capture_region_from_the_tray_is_indexed_and_announced(qtbot, agent_app, x_display, gui_home):
    capture_region = [a for a in agent_app.tray.menu.actions() if a.text() == "Capture region"][0]
    with qtbot.waitSignal(agent_app.notified, timeout=WAIT,
                          check_params_cb=lambda title, *_: title == "Capture saved") as note:
        capture_region.trigger()
        choose_region(qtbot, agent_app, TEXT_RECT)
    _, message, error = note.args
    assert not error and "Invoice 2024-0193" in message
    conn = sqlite3.connect(gui_home.db_path)
    rows = conn.execute("SELECT i.width, i.height, r.text FROM images i JOIN results r ON r.image_id = i.id "
                        "WHERE i.source = 'screenshot' AND r.kind = 'ocr'").fetchall()
    conn.close()
    assert len(rows) == 1 and rows[0][:2] == (800, 150)
    assert "会议纪要" in rows[0][2]
    window = agent_app.show_window(query="会议纪要")
    wait_for_query(qtbot, window, "会议纪要")
    assert [r["source"] for r in window.model.records] == ["screenshot"]


def test_capture_region_from_a_shell_is_handed_to_the_running_app_and_asked_about(qtbot, model_app, x_display,
                                                                                   gui_home):
    from vlagent.gui.instance import InstanceServer

    server = InstanceServer(gui_home)
    assert server.listen()
    server.requested.connect(model_app.handle_request)
    try:
        cli = subprocess.Popen([sys.executable, "-m", "vlagent", "capture", "--region", "--ask", "What is this?"],
                               cwd=REPO, env=cli_env(gui_home.root, DISPLAY=x_display), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        qtbot.waitUntil(lambda: cli.poll() is not None, timeout=WAIT)
        assert cli.returncode == 0, cli.stderr.read().decode()
        with qtbot.waitSignal(model_app.notified, timeout=WAIT,
                              check_params_cb=lambda title, *_: title == "Answer ready"):
            choose_region(qtbot, model_app, TEXT_RECT)
    finally:
        server.close()
    panel = model_app.window.detail.ask_panel
    assert "What is this?" in panel.transcript_text()
    conn = sqlite3.connect(gui_home.db_path)
    (prompt, source) = conn.execute("SELECT r.prompt, i.source FROM results r JOIN images i ON i.id = r.image_id "
                                    "WHERE r.kind = 'answer'").fetchone()
    conn.close()
    assert (prompt, source) == ("What is this?", "screenshot")
