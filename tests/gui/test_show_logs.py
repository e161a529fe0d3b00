"""The tray's "Show logs" opens the data home's logs/ folder in the file manager, and says so
in Chinese too."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication


class FileManager(QObject):  # stands in for the desktop: records what it is asked to open
    def __init__(self):
        super().__init__()
        self.opened: list[str] = []

    @Slot("QUrl")
    def open(self, url):
        self.opened.append(url.toLocalFile())


def test_show_logs_opens_the_logs_folder(qtbot, gui_home, gui_settings):
    from vlagent.gui import i18n
    from vlagent.gui.app import DesktopApp

    files = FileManager()
    QDesktopServices.setUrlHandler("file", files, "open")
    app = DesktopApp(QApplication.instance(), gui_home, gui_settings, agent=None, tray=True, hotkey=False)
    try:
        app.start()
        show_logs = [a for a in app.tray.menu.actions() if a.text() == "Show logs"]
        assert len(show_logs) == 1
        shutil.rmtree(gui_home.logs)
        show_logs[0].trigger()
        assert files.opened == [str(gui_home.logs)]
        assert Path(files.opened[0]).is_dir()
        gui_settings.set("general.language", "zh")
        qtbot.waitUntil(lambda: app.language == "zh")
        assert show_logs[0].text() == "查看日志"
    finally:
        QDesktopServices.unsetUrlHandler("file")
        app.shutdown()
        if app.window is not None:
            app.window.close()
        QApplication.instance().setQuitOnLastWindowClosed(True)
        i18n.install(QApplication.instance(), "en")
