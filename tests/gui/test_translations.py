"""The UI in Chinese: every string (the GUI's and the settings declaration's labels and help)
has a translation, the compiled .qm matches the .ts, and the language switches live."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QTranslator
from PySide6.QtWidgets import QApplication

from tests.conftest import REPO, cli_env
from vlagent.gui import i18n
from vlagent.resources import resource_path

TS = resource_path("translations", i18n.TS_NAME + ".ts")


def messages(ts) -> list[tuple[str, str, ET.Element]]:
    root = ET.parse(ts).getroot()
    return [(ctx.find("name").text, m.find("source").text, m.find("translation"))
            for ctx in root.iter("context") for m in ctx.iter("message")]


def test_every_ui_string_and_setting_is_translated(tmp_path):
    fresh = tmp_path / "check.ts"
    shutil.copy(TS, fresh)
    i18n.update_ts(fresh)  # what lupdate finds in today's code, merged with our translations
    untranslated = [(ctx, src) for ctx, src, tr in messages(fresh)
                    if tr.get("type") in ("unfinished", "vanished", "obsolete") or not (tr.text or "").strip()]
    assert untranslated == [], "run `python -m vlagent.gui.i18n` and translate these in " + str(TS)
    from vlagent.settings import SETTINGS

    settings_strings = {src for ctx, src, _ in messages(fresh) if ctx == "Settings"}
    assert {s.label for s in SETTINGS} <= settings_strings


def test_the_compiled_qm_matches_the_ts(qapp):
    tr = QTranslator()
    assert tr.load(str(TS.with_suffix(".qm")))
    for ctx, src, translation in messages(TS):
        assert tr.translate(ctx, src) == translation.text, (ctx, src)


def test_language_switches_live(qtbot, gui_home, gui_settings):
    from vlagent.gui.app import DesktopApp

    gui_settings.set("general.language", "en")
    app = DesktopApp(QApplication.instance(), gui_home, gui_settings, agent=None, tray=True, hotkey=False)
    try:
        app.start()
        window = app.show_window(query="小狗")
        assert window.query_edit.placeholderText().startswith("Search text in images")
        gui_settings.set("general.language", "zh", save=True)
        qtbot.waitUntil(lambda: app.window is not window and app.window is not None)
        assert app.language == "zh"
        assert app.window.query_edit.placeholderText() == "搜索图片中的文字、描述、回答、文件名…"
        assert app.window.query_edit.text() == "小狗"  # the search survives the switch
        assert [a.text() for a in app.tray.menu.actions() if not a.isSeparator()][1:3] == ["截取屏幕", "截取区域"]
        assert app.tray.tooltip.startswith("vlagent — 仅搜索")
        dialog = app.open_settings()
        assert dialog.tabs.tabText(dialog.tab_of["vlm"]) == "模型"
        gui_settings.set("general.language", "en")
        qtbot.waitUntil(lambda: app.language == "en")
        assert app.tray.menu.actions()[2].text() == "Capture screen"
    finally:
        app.shutdown()
        app.window.close()
        if app.dialog is not None:
            app.dialog.close()
        QApplication.instance().setQuitOnLastWindowClosed(True)
        i18n.install(QApplication.instance(), "en")


# The desktop app in a process of its own (the locale is read once per process): its language
# and the search window it shows.
APP_IN_LOCALE = """
import json
from PySide6.QtWidgets import QApplication
from vlagent.home import Home
from vlagent.settings import Settings
from vlagent.gui.app import DesktopApp
qapp = QApplication([])
home = Home.resolve().ensure()
app = DesktopApp(qapp, home, Settings.load(home.config_path), agent=None, tray=False, hotkey=False)
window = app.show_window(query="")
print(json.dumps({"language": app.language, "placeholder": window.query_edit.placeholderText(),
                  "title": window.windowTitle()}))
app.shutdown()
window.close()
"""


@pytest.mark.parametrize("locale, setting, expected", [
    ("zh_CN.UTF-8", None, "zh"),  # general.language = auto (the default) follows the system …
    ("en_US.UTF-8", None, "en"),
    ("zh_CN.UTF-8", "en", "en"),  # … and a language chosen in the settings wins over it
])
def test_the_ui_language_follows_the_system_locale_unless_set(tmp_path, locale, setting, expected):
    home = tmp_path / "home"
    if setting is not None:
        home.mkdir()
        (home / "config.toml").write_text(f'[general]\nlanguage = "{setting}"\n', encoding="utf-8")
    env = cli_env(home, LANG=locale, LC_ALL=locale, QT_QPA_PLATFORM="offscreen")
    for var in ("LANGUAGE", "LC_MESSAGES"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, "-c", APP_IN_LOCALE], capture_output=True, text=True, env=env,
                          cwd=str(REPO), timeout=120)
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout.strip().splitlines()[-1])
    assert shown["language"] == expected
    if expected == "zh":
        assert shown["placeholder"] == "搜索图片中的文字、描述、回答、文件名…" and shown["title"] == "vlagent — 搜索"
    else:
        assert shown["placeholder"].startswith("Search text in images") and shown["title"] == "vlagent — search"
