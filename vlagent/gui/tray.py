"""The tray icon: its picture and tooltip show the state (idle, indexing N left, model
loading, paused, error); its menu holds the app's actions; it shows the notifications."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from vlagent.gui.icons import state_icon

NOTIFY_MS = 6000


class Tray(QObject):
    activated = Signal()  # a click on the icon (not the menu)

    def __init__(self, actions: list, parent=None):
        super().__init__(parent)
        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        # The state, also where a desktop shows no tooltips.
        self.status_action = self.menu.addAction("")
        self.status_action.setEnabled(False)
        self.menu.addSeparator()
        for a in actions:
            self.menu.addSeparator() if a is None else self.menu.addAction(a)
        self.icon = QSystemTrayIcon(state_icon("idle"), self)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.state = "idle"
        self.tooltip = ""

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def set_state(self, state: str, tooltip: str) -> None:
        if state != self.state:
            self.state = state
            self.icon.setIcon(state_icon(state))
        if tooltip != self.tooltip:
            self.tooltip = tooltip
            self.icon.setToolTip(tooltip)
            self.status_action.setText(tooltip)

    def notify(self, title: str, message: str, *, error: bool = False) -> None:
        kind = QSystemTrayIcon.MessageIcon.Warning if error else QSystemTrayIcon.MessageIcon.Information
        self.icon.showMessage(title, message, kind, NOTIFY_MS)

    def _activated(self, reason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.activated.emit()
