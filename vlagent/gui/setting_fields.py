"""One editor widget per setting type, chosen from the setting's declaration.

Every field has ``value()``, ``set_value(v)`` and a ``changed`` signal; the dialog never
needs to know which widget it holds.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vlagent.settings import Setting

INT_MAX = 2**31 - 1


def choice_label(setting: Setting, value: str) -> str:
    """How a choice is shown: a few are words worth translating, the rest are names."""
    names = {
        "auto": QCoreApplication.translate("SettingFields", "Automatic"),
        "en": "English",
        "zh": "中文",
        "always": QCoreApplication.translate("SettingFields", "Always"),
        "never": QCoreApplication.translate("SettingFields", "Never"),
    }
    if setting.key == "general.language" and value == "auto":
        return QCoreApplication.translate("SettingFields", "System language")
    return names.get(value, value)


class Field(QWidget):
    changed = Signal()

    def __init__(self, setting: Setting, parent=None):
        super().__init__(parent)
        self.setting = setting
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)

    def value(self):
        raise NotImplementedError

    def set_value(self, value) -> None:
        raise NotImplementedError


class BoolField(Field):
    def __init__(self, setting, parent=None):
        super().__init__(setting, parent)
        self.box = QCheckBox()
        self.box.toggled.connect(self.changed)
        self.layout_.addWidget(self.box)
        self.layout_.addStretch(1)

    def value(self):
        return self.box.isChecked()

    def set_value(self, value) -> None:
        self.box.setChecked(bool(value))


class IntField(Field):
    def __init__(self, setting, parent=None):
        super().__init__(setting, parent)
        self.spin = QSpinBox()
        self.spin.setRange(int(setting.minimum) if setting.minimum is not None else -INT_MAX,
                           int(setting.maximum) if setting.maximum is not None else INT_MAX)
        self.spin.setGroupSeparatorShown(True)
        self.spin.setMinimumWidth(140)
        self.spin.valueChanged.connect(self.changed)
        self.layout_.addWidget(self.spin)
        self.layout_.addStretch(1)

    def value(self):
        return self.spin.value()

    def set_value(self, value) -> None:
        self.spin.setValue(int(value))


class FloatField(Field):
    def __init__(self, setting, parent=None):
        super().__init__(setting, parent)
        self.spin = QDoubleSpinBox()
        self.spin.setDecimals(2)
        self.spin.setRange(setting.minimum if setting.minimum is not None else -1e9,
                           setting.maximum if setting.maximum is not None else 1e9)
        self.spin.setSingleStep(0.05 if (setting.maximum or 0) <= 1 and setting.maximum is not None else 1.0)
        self.spin.setMinimumWidth(140)
        self.spin.valueChanged.connect(self.changed)
        self.layout_.addWidget(self.spin)
        self.layout_.addStretch(1)

    def value(self):
        return round(self.spin.value(), 6)

    def set_value(self, value) -> None:
        self.spin.setValue(float(value))


class ChoiceField(Field):
    def __init__(self, setting, parent=None):
        super().__init__(setting, parent)
        self.combo = QComboBox()
        for c in setting.choices:
            self.combo.addItem(choice_label(setting, c), c)
        self.combo.currentIndexChanged.connect(self.changed)
        self.layout_.addWidget(self.combo)
        self.layout_.addStretch(1)

    def value(self):
        return self.combo.currentData()

    def set_value(self, value) -> None:
        self.combo.setCurrentIndex(max(self.combo.findData(value), 0))


class TextField(Field):
    """str, secret (hidden), path (with a Browse… button) and multi-line prompts."""

    def __init__(self, setting, parent=None):
        super().__init__(setting, parent)
        widget = setting.meta.get("widget")
        self.multiline = widget == "multiline"
        self.edit: QPlainTextEdit | QLineEdit
        if self.multiline:
            self.edit = QPlainTextEdit()
            self.edit.setFixedHeight(72)
            self.edit.textChanged.connect(self.changed)
        else:
            self.edit = line = QLineEdit()
            line.textChanged.connect(self.changed)
            if setting.type == "secret":
                line.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        if widget == "multiline":
            self.edit.setPlaceholderText(self.tr("(empty: the built-in default)"))
        self.layout_.addWidget(self.edit, 1)
        if setting.type == "path" or widget == "folder":
            browse = QPushButton(self.tr("Browse…"))
            browse.clicked.connect(self._browse)
            self.layout_.addWidget(browse)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder"), self.value())
        if folder:
            self.set_value(folder)

    def value(self):
        if isinstance(self.edit, QPlainTextEdit):  # multiline
            return self.edit.toPlainText()
        return self.edit.text()

    def set_value(self, value) -> None:
        if isinstance(self.edit, QPlainTextEdit):  # multiline
            self.edit.setPlainText(str(value))
        else:
            self.edit.setText(str(value))


class ListField(Field):
    """A list with Add…/Remove; folders come from a folder picker, anything else is typed."""

    def __init__(self, setting, parent=None):
        super().__init__(setting, parent)
        self.folders = setting.meta.get("widget") == "folders"
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setMinimumHeight(86)
        self.list.setMaximumHeight(130)
        self.layout_.addWidget(self.list, 1)
        buttons = QVBoxLayout()
        self.add_button = QPushButton(self.tr("Add folder…") if self.folders else self.tr("Add…"))
        self.add_button.clicked.connect(self._add)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.clicked.connect(self._remove)
        # Every list's buttons as wide as the widest label, so the lists line up.
        width = max(self.fontMetrics().horizontalAdvance(t) for t in (self.tr("Add folder…"), self.tr("Add…"),
                                                                       self.tr("Remove"))) + 32
        for b in (self.add_button, self.remove_button):
            b.setMinimumWidth(width)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        self.layout_.addLayout(buttons)

    def add_items(self, items) -> None:
        have = set(self.value())
        for item in items:
            if item and item not in have:
                self.list.addItem(item)
                have.add(item)
        self.changed.emit()

    def _add(self) -> None:
        if self.folders:
            folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder"))
            self.add_items([folder] if folder else [])
        else:
            text, ok = QInputDialog.getText(self, self.tr("Add"), self.tr("New entry:"))
            if ok:
                self.add_items([t.strip() for t in text.split(",")])

    def _remove(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.changed.emit()

    def value(self):
        return [self.list.item(i).text() for i in range(self.list.count())]

    def set_value(self, value) -> None:
        self.list.clear()
        self.list.addItems([str(v) for v in value])


FIELD_TYPES = {"bool": BoolField, "int": IntField, "float": FloatField, "choice": ChoiceField, "list": ListField,
               "str": TextField, "path": TextField, "secret": TextField}


def make_field(setting: Setting, parent=None) -> Field:
    return FIELD_TYPES[setting.type](setting, parent)
