"""UI language: English in the source, Chinese from Qt translation files.

``resources/translations/vlagent_zh_CN.ts`` is the translators' source, compiled to ``.qm``
for run time. Setting labels and help come from the settings declaration, so they are
collected into the ``.ts`` under the context ``Settings``.

``python -m vlagent.gui.i18n`` refreshes the ``.ts`` from the code (pyside6-lupdate; new
strings arrive unfinished) and compiles the ``.qm`` (pyside6-lrelease).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from vlagent.resources import resource_path

LANGUAGES = ("en", "zh")
TS_NAME = "vlagent_zh_CN"
_installed: list[QTranslator] = []
_language = "en"  # the UI language install() chose last


def ui_language(setting: str) -> str:
    """``general.language`` (auto|en|zh) → the UI language, auto following the system locale."""
    if setting in LANGUAGES:
        return setting
    return "zh" if QLocale.system().language() == QLocale.Language.Chinese else "en"


def install(app: QCoreApplication, setting: str) -> str:
    """Install the translators for ``setting``, replacing earlier ones; returns the language."""
    for tr in _installed:
        app.removeTranslator(tr)
    _installed.clear()
    global _language
    lang = _language = ui_language(setting)
    if lang == "zh":
        ours = QTranslator(app)
        if ours.load(str(resource_path("translations", TS_NAME + ".qm"))):
            app.installTranslator(ours)
            _installed.append(ours)
        qt = QTranslator(app)  # Qt's own strings: standard buttons, dialogs
        if qt.load("qtbase_zh_CN", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(qt)
            _installed.append(qt)
    return lang


def ui_locale() -> QLocale:
    """The locale dates and numbers are written in: the UI language's (the system's own when
    it speaks the UI's language)."""
    system = QLocale.system()
    chinese = system.language() == QLocale.Language.Chinese
    if _language == "zh":
        return system if chinese else QLocale(QLocale.Language.Chinese, QLocale.Country.China)
    return QLocale(QLocale.Language.English, QLocale.Country.UnitedStates) if chinese else system


# --- developer tools ------------------------------------------------------------------------
def _tool(name: str) -> str:
    import PySide6

    for candidate in (Path(sys.executable).parent / f"pyside6-{name}", Path(PySide6.__file__).parent / name):
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError(f"pyside6-{name} not found")


def settings_source() -> str:
    """Python source that 'translates' every setting label and help, for lupdate to find."""
    from vlagent.settings import SETTINGS

    lines = ["from PySide6.QtCore import QCoreApplication", ""]
    for s in SETTINGS:
        for text in (s.label, s.help):
            if text:
                lines.append(f"QCoreApplication.translate({'Settings'!r}, {text!r})")
    return "\n".join(lines) + "\n"


def gui_sources() -> list[Path]:
    return sorted(Path(__file__).parent.glob("*.py"))


def update_ts(ts: Path | None = None) -> Path:
    """Run lupdate over the GUI code and the settings declaration into ``ts``."""
    ts = ts or resource_path("translations", TS_NAME + ".ts")
    with tempfile.TemporaryDirectory() as tmp:
        extra = Path(tmp) / "settings_strings.py"
        extra.write_text(settings_source(), encoding="utf-8")
        subprocess.run([_tool("lupdate"), "-locations", "none", "-no-obsolete", "-silent",
                        *map(str, gui_sources()), str(extra), "-ts", str(ts)], check=True)
    return ts


def release(ts: Path | None = None) -> Path:
    ts = ts or resource_path("translations", TS_NAME + ".ts")
    qm = ts.with_suffix(".qm")
    subprocess.run([_tool("lrelease"), "-silent", str(ts), "-qm", str(qm)], check=True)
    return qm


if __name__ == "__main__":  # pragma: no cover - a developer tool
    print(update_ts())
    print(release())
