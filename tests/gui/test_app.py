"""The desktop app: tray menu actions do what they say, the tray shows the state, and where
the desktop has no tray the search window is the main window."""

from __future__ import annotations

import pytest
import tomllib
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from tests.gui.conftest import wait_for_query


@pytest.fixture
def make_app(qtbot, gui_home, gui_settings):
    from vlagent.gui.app import DesktopApp

    apps = []

    def make(**kw):
        kw.setdefault("agent", None)
        kw.setdefault("hotkey", False)
        app = DesktopApp(QApplication.instance(), gui_home, gui_settings, **kw)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.shutdown()
        for w in (app.window, app.dialog):
            if w is not None:
                w.quit_on_close = False if hasattr(w, "quit_on_close") else None
                w.close()
    QApplication.instance().setQuitOnLastWindowClosed(True)


def test_without_a_tray_the_search_window_is_the_main_window(qtbot, make_app):
    assert not QSystemTrayIcon.isSystemTrayAvailable()  # offscreen Qt, like GNOME without the extension
    app = make_app()
    app.start()
    assert app.tray is None
    assert app.window is not None and app.window.isVisible()
    assert app.window.quit_on_close and QApplication.instance().quitOnLastWindowClosed()
    menu = app.window.menuBar().actions()[0].menu()
    assert [a.text() for a in menu.actions() if not a.isSeparator()] == [
        "Capture screen", "Capture region", "Search…", "Pause", "Settings…", "Quit"]
    wait_for_query(qtbot, app.window, "")
    assert len(app.window.model.records) == 4
    assert app.window.status_label.text() == "Search only: the background worker is off"


def test_tray_menu_actions_do_what_they_say(qtbot, make_app, gui_home):
    app = make_app(tray=True)
    app.start()
    assert app.window is None and app.tray.icon.isVisible()
    status, *actions = [a for a in app.tray.menu.actions() if not a.isSeparator()]
    assert [a.text() for a in actions] == ["Capture screen", "Capture region", "Search…", "Pause", "Settings…",
                                           "Quit"]
    assert status.text() == "vlagent — Search only: the background worker is off" and not status.isEnabled()
    capture_screen, capture_region, search, pause, settings, quit_ = actions

    search.trigger()
    assert app.window.isVisible() and not app.window.quit_on_close
    assert not QApplication.instance().quitOnLastWindowClosed()  # closing the window keeps the tray app

    pause.trigger()
    assert tomllib.loads(gui_home.config_path.read_text())["privacy"]["paused"] is True
    assert pause.text() == "Resume"
    assert app.tray.state == "paused"
    pause.trigger()
    assert "paused" not in tomllib.loads(gui_home.config_path.read_text()).get("privacy", {})
    assert pause.text() == "Pause" and app.tray.state == "idle"

    settings.trigger()
    assert app.dialog is not None and app.dialog.isVisible()

    # Paused: a capture from the tray is refused with a notification, nothing is grabbed.
    app.settings.set("privacy.paused", True)
    with qtbot.waitSignal(app.notified, timeout=10_000) as note:
        capture_screen.trigger()
    title, message, error = note.args
    assert error and title == "Capture failed" and "paused" in message

    QTimer.singleShot(0, quit_.trigger)
    assert QApplication.instance().exec() == 0  # Quit ends the event loop
