"""The settings dialog, generated from the one settings declaration: a tab per section, an
editor per setting (its type, choices and limits pick the widget), the declared help under
each. OK/Apply save ``config.toml`` through :meth:`Settings.set`, whose subscribers (the
worker, the watcher, the app) apply the change at once; the few settings declared
``restart=True`` say so.
"""

from __future__ import annotations

import importlib.util

from PySide6.QtCore import QCoreApplication, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vlagent.gui.icons import app_icon
from vlagent.gui.setting_fields import Field, make_field
from vlagent.settings import SETTINGS, SettingError, coerce
from vlagent.settings.declaration import sections

# Tabs in this order; sections declared later (by other features) follow.
SECTION_ORDER = ("general", "watch", "privacy", "capture", "vlm", "memory", "ocr", "ingest", "net", "api", "mcp")


def setting_text(text: str) -> str:
    """A setting's label or help, translated (the .ts file collects them from the declaration)."""
    return QCoreApplication.translate("Settings", text) if text else ""


class SettingsDialog(QDialog):
    applied = Signal(list)  # keys whose value changed

    def __init__(self, settings, home, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.home = home
        self.fields: dict[str, Field] = {}
        self.setWindowTitle(self.tr("vlagent settings"))
        self.setWindowIcon(app_icon())
        self.resize(760, 640)
        self._build()
        self.load()

    def section_title(self, section: str) -> str:
        titles = {"general": self.tr("General"), "watch": self.tr("Watched folders"), "privacy": self.tr("Privacy"),
                  "capture": self.tr("Capture"), "vlm": self.tr("Model"), "ocr": self.tr("OCR"),
                  "ingest": self.tr("Images"), "net": self.tr("Network"), "api": self.tr("API"),
                  "memory": self.tr("Ask all"), "mcp": self.tr("MCP")}
        return titles.get(section, section.capitalize())

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)
        order = [s for s in SECTION_ORDER if s in sections()] + [s for s in sections() if s not in SECTION_ORDER]
        self.tab_of: dict[str, int] = {}
        for section in order:
            page = QWidget()
            form = QFormLayout(page)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            for s in (s for s in SETTINGS if s.section == section):
                self._add_row(form, s)
                if s.key == "vlm.hub":  # pulls the model named above from this hub
                    self._add_pull_row(form)
            if section == "general":
                self._add_data_location(form)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            self.tab_of[section] = self.tabs.addTab(scroll, self.section_title(section))

        self.message = QLabel()
        self.message.setObjectName("settingsMessage")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.Apply
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        defaults = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        defaults.setToolTip(self.tr("Put this tab's settings back to their defaults (saved with OK or Apply)"))
        defaults.clicked.connect(self.restore_tab_defaults)
        self.buttons = buttons
        lay.addWidget(buttons)

    def _add_row(self, form: QFormLayout, s) -> None:
        field = make_field(s)
        self.fields[s.key] = field
        help_text = setting_text(s.help)
        cell = QWidget()
        cl = QVBoxLayout(cell)
        cl.setContentsMargins(0, 0, 0, 4)
        cl.setSpacing(2)
        cl.addWidget(field)
        note = help_text + (" " + self.tr("(applies after a restart)") if s.restart else "")
        hint = QLabel(note)
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text); font-size: 9pt;")
        cl.addWidget(hint)
        label = QLabel(self.tr("{label}:").format(label=setting_text(s.label or s.name)))
        label.setToolTip(s.key)
        label.setBuddy(field)
        field.setToolTip(help_text)
        form.addRow(label, cell)

    def _add_data_location(self, form: QFormLayout) -> None:
        row = QWidget()
        rl = QHBoxLayout(row)
        rl.setContentsMargins(0, 0, 0, 0)
        where = QLineEdit(str(self.home.root))
        where.setReadOnly(True)
        rl.addWidget(where, 1)
        open_button = QPushButton(self.tr("Open"))
        open_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.home.root))))
        rl.addWidget(open_button)
        cell = QWidget()
        cl = QVBoxLayout(cell)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(row)
        hint = QLabel(self.tr("The index, thumbnails, captures and models live here. To use another folder, "
                              "start vlagent with --home DIR or set the VLAGENT_HOME environment variable."))
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text); font-size: 9pt;")
        cl.addWidget(hint)
        form.addRow(self.tr("Data folder:"), cell)

    # --- pulling the model ----------------------------------------------------------------
    def _add_pull_row(self, form: QFormLayout) -> None:
        row = QWidget()
        rl = QHBoxLayout(row)
        rl.setContentsMargins(0, 0, 0, 0)
        self.pull_button = QPushButton(self.tr("Pull model"))
        self.pull_button.clicked.connect(self.pull_model)
        self.pull_progress = QProgressBar()
        self.pull_progress.setVisible(False)
        self.pull_status = QLabel()
        self.pull_status.setWordWrap(True)
        rl.addWidget(self.pull_button)
        rl.addWidget(self.pull_progress, 1)
        rl.addWidget(self.pull_status, 2)
        available = importlib.util.find_spec("vlagent.vlm.hub") is not None
        self.pull_button.setEnabled(available)
        if not available:
            self.pull_status.setText(self.tr("Downloading models is not available in this installation."))
        else:
            self.pull_button.setToolTip(self.tr("Download the model above from the chosen hub into the data folder"))
        form.addRow("", row)

    def pull_model(self) -> None:
        from vlagent.gui.pull import start_pull

        model = self.fields["vlm.model"].value().strip()
        hub = self.fields["vlm.hub"].value() if "vlm.hub" in self.fields else "huggingface"
        self.pull_button.setEnabled(False)
        self.pull_progress.setVisible(True)
        self.pull_progress.setRange(0, 0)
        self.pull_status.setText(self.tr("Connecting to {hub}…").format(hub=hub))
        self._pull = start_pull(model, hub, self.home, self)
        self._pull.progress.connect(self._pull_progress)
        self._pull.finished.connect(self._pull_done)
        self._pull.failed.connect(self._pull_failed)

    def _pull_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.pull_progress.setRange(0, 1000)
            self.pull_progress.setValue(int(1000 * min(done / total, 1.0)))
            self.pull_status.setText(f"{done / 1e6:,.1f} / {total / 1e6:,.1f} MB")

    def _pull_done(self, result) -> None:
        self.pull_progress.setRange(0, 1)
        self.pull_progress.setValue(1)
        self.pull_button.setEnabled(True)
        self.pull_status.setText(self.tr("Ready: {path}").format(path=result.path))

    def _pull_failed(self, message: str) -> None:
        self.pull_progress.setVisible(False)
        self.pull_button.setEnabled(True)
        self.pull_status.setText(message)

    # --- values ---------------------------------------------------------------------------
    def load(self) -> None:
        for key, field in self.fields.items():
            field.set_value(self.settings.get(key))
        self.message.clear()

    def restore_tab_defaults(self) -> None:
        section = next((s for s, i in self.tab_of.items() if i == self.tabs.currentIndex()), None)
        for s in SETTINGS:
            if s.section == section:
                self.fields[s.key].set_value(s.default)

    def pending_changes(self) -> dict:
        """Values that differ from the current settings; raises SettingError on a bad value."""
        out = {}
        for s in SETTINGS:
            value = coerce(s, self.fields[s.key].value())
            if value != self.settings.get(s.key):
                out[s.key] = value
        return out

    def apply(self) -> bool:
        try:
            changes = self.pending_changes()
        except SettingError as e:
            self.message.setStyleSheet("color: #c0392b;")
            self.message.setText(str(e))
            key = str(e).split(":", 1)[0]
            if key in self.fields:
                self.tabs.setCurrentIndex(self.tab_of[key.split(".", 1)[0]])
                self.fields[key].setFocus()
            return False
        for key, value in changes.items():
            self.settings.set(key, value)
        if changes:
            self.settings.save()
        restart = [k for k in changes if next(s for s in SETTINGS if s.key == k).restart]
        self.message.setStyleSheet("")
        if restart:
            self.message.setText(self.tr("Saved. Some changes apply after vlagent restarts."))
        else:
            self.message.setText(self.tr("Saved.") if changes else "")
        self.applied.emit(list(changes))
        return True

    def accept(self) -> None:
        if self.apply():
            super().accept()
