"""The desktop app: the tray (or, where the desktop has no tray, the search window as the
main window), the background agent, the single-instance channel, the capture actions,
the global hotkey, settings and notifications. Everything slow runs off the GUI thread.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from vlagent.common import trim_heap
from vlagent.gui import i18n
from vlagent.gui.agent_bridge import AgentBridge, tray_state
from vlagent.gui.backend import Backend
from vlagent.gui.capture_actions import CaptureController
from vlagent.gui.icons import app_icon
from vlagent.gui.tray import Tray

if TYPE_CHECKING:
    from vlagent.capture.hotkey import HotkeyListener
    from vlagent.gui.search_window import SearchWindow
    from vlagent.gui.settings_dialog import SettingsDialog
    from vlagent.worker.status import WorkerStatus

log = logging.getLogger(__name__)

FAILURE_NOTIFY_EVERY_S = 60.0  # job failures are reported at most this often
EXCERPT = 160


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


class DesktopApp(QObject):
    _setting_changed = Signal(str, object)  # Settings listeners run on any thread
    _hotkey_pressed = Signal()
    notified = Signal(str, str, bool)  # title, message, is an error

    def __init__(self, qapp: QApplication, home, settings, *, agent: AgentBridge | bool | None = True,
                 tray: bool | None = None, hotkey: bool = True, parent=None):
        super().__init__(parent)
        self.qapp = qapp
        self.home = home
        self.settings = settings
        self.language = i18n.install(qapp, settings.view.general.language)
        qapp.setWindowIcon(app_icon())
        self.agent = AgentBridge(home, settings, parent=self) if agent is True else (agent or None)
        self.backend = Backend(home, settings, self.agent, parent=self)
        self.captures = CaptureController(self.backend, hide_windows=self._hide_windows, parent=self)
        self.window: SearchWindow | None = None
        self.dialog: SettingsDialog | None = None
        self.status: WorkerStatus | None = None
        self.use_tray = QSystemTrayIcon.isSystemTrayAvailable() if tray is None else tray
        self._last_failure_note = 0.0
        self._hotkey: HotkeyListener | None = None
        self._want_hotkey = hotkey
        self._make_actions()
        self.tray = Tray(self.menu_actions(), self) if self.use_tray else None
        if self.tray is not None:
            self.tray.activated.connect(self.show_window)
            self.tray.icon.messageClicked.connect(self._notification_clicked)
        self._last_notified_image: int | None = None
        self._alive = True
        self._wire()
        self._label_actions()

    # --- actions ------------------------------------------------------------------------------
    def _make_actions(self) -> None:
        self.capture_screen_action = QAction(self)
        self.capture_screen_action.triggered.connect(lambda: self.captures.capture_screen())
        self.capture_region_action = QAction(self)
        self.capture_region_action.triggered.connect(lambda: self.captures.capture_region())
        self.search_action = QAction(self)
        self.search_action.triggered.connect(lambda: self.show_window())
        self.pause_action = QAction(self)
        self.pause_action.triggered.connect(lambda: self.set_paused(not self.settings.view.privacy.paused))
        self.settings_action = QAction(self)
        self.settings_action.triggered.connect(self.open_settings)
        self.logs_action = QAction(self)
        self.logs_action.triggered.connect(self.show_logs)
        self.quit_action = QAction(self)
        self.quit_action.triggered.connect(self.quit)

    def _label_actions(self) -> None:
        self.capture_screen_action.setText(self.tr("Capture screen"))
        self.capture_region_action.setText(self.tr("Capture region"))
        self.search_action.setText(self.tr("Search…"))
        self.pause_action.setText(self.tr("Resume") if self.settings.view.privacy.paused else self.tr("Pause"))
        self.settings_action.setText(self.tr("Settings…"))
        self.logs_action.setText(self.tr("Show logs"))
        self.quit_action.setText(self.tr("Quit"))

    def menu_actions(self) -> list[QAction | None]:
        return [self.capture_screen_action, self.capture_region_action, self.search_action, None,
                self.pause_action, self.settings_action, self.logs_action, None, self.quit_action]

    def _wire(self) -> None:
        self._setting_changed.connect(self._apply_setting)
        # Settings has no unsubscribe: after shutdown() the listener stays quiet.
        def forward(key: str, value) -> None:  # on any thread: the signal brings it to the GUI thread
            if self._alive:
                self._setting_changed.emit(key, value)

        self.settings.subscribe(forward)
        self._hotkey_pressed.connect(lambda: self.captures.capture_region())
        if self.agent is not None:
            self.agent.status_changed.connect(self._status)
            self.agent.job_finished.connect(self._job_finished)
            self.agent.started.connect(self._agent_started)
            self.agent.start_failed.connect(lambda _msg: self._update_state())
            self.agent.model_loaded.connect(self._model_loaded)
        self.captures.stored.connect(self._capture_stored)
        self.captures.ready.connect(self._capture_ready)
        self.captures.failed.connect(lambda msg: self.notify(self.tr("Capture failed"), msg, error=True))

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.agent is not None:
            self.agent.start()
        if self.tray is not None:
            self.tray.show()
        else:
            self.show_window()  # no tray on this desktop: the window is the app
        self.qapp.setQuitOnLastWindowClosed(self.tray is None)
        if self._want_hotkey:
            self._start_hotkey()
        self._update_state()

    def quit(self) -> None:
        QTimer.singleShot(0, self.qapp.quit)

    def shutdown(self) -> None:
        """After the event loop ends: stop the agent (requeues a model batch) and the threads."""
        self._alive = False
        self._stop_hotkey()
        if self.tray is not None:
            self.tray.hide()
        if self.agent is not None:
            self.agent.stop()
        self.backend.stop()

    def handle_request(self, request: dict) -> None:
        """A second launch's request (see :mod:`vlagent.gui.instance`)."""
        action = request.get("action")
        if action == "search":
            self.show_window(query=str(request.get("query") or ""))
        elif action == "capture_region":
            keep = request.get("keep")
            self.captures.capture_region(question=request.get("question") or None,
                                         keep=None if keep is None else bool(keep))
        elif action == "capture_screen":
            self.captures.capture_screen()
        else:
            self.show_window()

    # --- windows ------------------------------------------------------------------------------
    def show_window(self, query: str | None = None) -> SearchWindow:
        from vlagent.gui.search_window import SearchWindow

        window = self.window
        if window is None:
            window = self.window = SearchWindow(self.backend)
            window.quit_on_close = self.tray is None
            window.add_app_menu(self.tr("&vlagent"), self.menu_actions())
            window.settings_requested.connect(self.open_settings)
            if self.backend.agent is not None:
                from vlagent.gui.ask_panel import AskPanel

                panel = AskPanel(self.backend)
                panel.answered.connect(self._answered)
                window.detail.set_ask_panel(panel)
            self._update_state()
            if query is None:
                window.run_search()
        if query is not None:
            window.set_query(query)
        window.show()
        window.raise_()
        window.activateWindow()
        if query is None:
            window.focus_query()
        return window

    def open_settings(self) -> SettingsDialog:
        from vlagent.gui.settings_dialog import SettingsDialog

        dialog = self.dialog
        if dialog is None:
            dialog = self.dialog = SettingsDialog(self.settings, self.home)
            dialog.finished.connect(self._settings_closed)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def show_logs(self) -> bool:
        """Open the data home's logs/ folder in the file manager (for a bug report)."""
        self.home.logs.mkdir(parents=True, exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.home.logs)))

    def _settings_closed(self, _result) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None

    def _hide_windows(self) -> Callable[[], None]:
        shown: list[QWidget] = [w for w in (self.window, self.dialog) if w is not None and w.isVisible()]
        for w in shown:
            w.hide()

        def restore() -> None:
            for w in shown:
                w.show()

        return restore

    # --- state ------------------------------------------------------------------------------
    def set_paused(self, paused: bool) -> None:
        if self.settings.view.privacy.paused != paused:
            self.settings.set("privacy.paused", paused, save=True)

    def _apply_setting(self, key: str, value) -> None:
        if key == "privacy.paused":
            self._label_actions()
            self._update_state()
        elif key == "general.language":
            self.retranslate()
        elif key == "capture.hotkey" and self._want_hotkey:
            self._stop_hotkey()
            self._start_hotkey()
        if self.window is not None:
            self.window.settings_changed(key)

    def retranslate(self) -> None:
        """Switch the UI language now: new translators, relabelled actions, a rebuilt window."""
        self.language = i18n.install(self.qapp, self.settings.view.general.language)
        self._label_actions()
        if self.window is not None:
            old, query, visible = self.window, self.window.query_edit.text(), self.window.isVisible()
            geometry = old.saveGeometry()
            old.quit_on_close = False
            self.window = None
            old.close()
            old.deleteLater()
            if visible:
                self.show_window(query=query).restoreGeometry(geometry)
        self._update_state()

    def _agent_started(self) -> None:
        self._update_state()
        if self.window is not None:
            self.window.detail.reload()

    def _status(self, status: WorkerStatus) -> None:
        previous = self.status
        self.status = status
        self._update_state()
        if status.state in ("idle", "paused") and (previous is None or previous.state not in ("idle", "paused")):
            self.backend.images.submit(trim_heap)  # the work just finished left freed memory behind
        if status.error and (previous is None or previous.error != status.error):
            self.notify(self.tr("The background worker stopped"), status.error, error=True)

    def _model_loaded(self, loaded: bool) -> None:
        self._update_state()
        if not loaded:
            self.notify(self.tr("The model could not be loaded"),
                        self.tr("{model}: check Settings → Model, or pull it first.").format(
                            model=self.settings.view.vlm.model), error=True)

    def state_text(self) -> tuple[str, str]:
        """(tray state, a line saying it) for the icon, its tooltip and the status bar."""
        agent = self.agent
        paused = self.settings.view.privacy.paused
        if agent is None or (agent.error and not agent.running):
            reason = agent.error if agent is not None else self.tr("the background worker is off")
            return ("paused" if paused else "idle"), self.tr("Search only: {reason}").format(reason=reason)
        state = tray_state(self.status, paused, agent.loading_model)
        st = self.status
        # tray_state() says error or busy only for a status
        if state == "error" and st is not None:
            return state, self.tr("Error: {error}").format(error=st.error)
        if state == "loading":
            return state, self.tr("Starting…") if st is None else self.tr("Loading the model…")
        if state == "busy" and st is not None:
            text = self.tr("Indexing: {n} left").format(n=st.queued)
            name = (st.current or {}).get("name")
            return state, text + (f" · {name}" if name else "")
        if state == "paused":
            return state, self.tr("Paused") + (self.tr(" · {n} waiting").format(n=st.queued) if st and st.queued
                                               else "")
        return state, self.tr("Idle") + (self.tr(" · model loaded") if st and st.model_loaded else "")

    def _update_state(self) -> None:
        state, text = self.state_text()
        if self.tray is not None:
            self.tray.set_state(state, "vlagent — " + text)
        if self.window is not None:
            self.window.set_status(text)

    # --- notifications --------------------------------------------------------------------------
    def notify(self, title: str, message: str, *, error: bool = False, image_id: int | None = None) -> None:
        self._last_notified_image = image_id
        self.notified.emit(title, message, error)
        if self.tray is not None:
            self.tray.notify(title, message, error=error)
        elif self.window is not None:
            self.window.statusBar().showMessage(f"{title}: {message}", 15000)

    def _notification_clicked(self) -> None:
        if self._last_notified_image is not None:
            self.show_window().show_image(self._last_notified_image)

    def _job_finished(self, report) -> None:
        if report.ok or report.state != "failed":
            return
        now = time.monotonic()
        if now - self._last_failure_note >= FAILURE_NOTIFY_EVERY_S:
            self._last_failure_note = now
            self.notify(self.tr("Could not process an image"), _excerpt(report.error or ""), error=True)

    def _capture_stored(self, image_id: int, question) -> None:
        if question:
            window = self.show_window()
            window.show_image(image_id)
            panel = window.detail.ask_panel
            if panel is not None:
                window.detail.tabs.setCurrentWidget(panel)
                QTimer.singleShot(0, lambda: self._ask_when_shown(image_id, question))
        elif self.agent is None or not self.agent.running:
            self.notify(self.tr("Capture saved"), self.tr("Another vlagent process will read its text."),
                        image_id=image_id)

    def _ask_when_shown(self, image_id: int, question: str, tries: int = 50) -> None:
        panel = self.window.detail.ask_panel if self.window else None
        if panel is None:
            return
        if panel.image_id == image_id:
            panel.ask(question)
        elif tries:
            QTimer.singleShot(100, lambda: self._ask_when_shown(image_id, question, tries - 1))

    def _capture_ready(self, image_id: int, text: str) -> None:
        message = (self.tr("Text: {text}").format(text=_excerpt(text)) if text.strip()
                   else self.tr("No text found in the capture."))
        self.notify(self.tr("Capture saved"), message, image_id=image_id)

    def _answered(self, image_id: int, answer: str) -> None:
        self.notify(self.tr("Answer ready"), _excerpt(answer), image_id=image_id)
        if image_id in self.captures.pending:
            self.captures.finish(image_id)

    # --- the global hotkey --------------------------------------------------------------------
    def _start_hotkey(self) -> None:
        try:
            from vlagent.capture.hotkey import GLOBAL_HOTKEY, HotkeyError, HotkeyListener
        except ImportError:  # capture is not installed
            return
        try:
            listener = HotkeyListener(self.settings.view.capture.hotkey, self._hotkey_pressed.emit,
                                      paused=lambda: self.settings.view.privacy.paused)
            if listener.mode.mode == GLOBAL_HOTKEY:
                self._hotkey = listener.start()
            else:
                log.info("no global hotkey: %s; %s", listener.mode.reason, listener.mode.instruction)
        except HotkeyError as e:
            log.warning("the capture hotkey is not active: %s", e)

    def _stop_hotkey(self) -> None:
        if self._hotkey is not None:
            self._hotkey.stop()
            self._hotkey = None


def signal_emit_leaks() -> bool:
    """True on a Qt binding whose ``Signal.emit()`` drops a reference to ``True`` on every call
    (PySide6 6.12.0): a long-running app then aborts after a few hundred signals."""
    class Probe(QObject):
        ping = Signal()

    probe = Probe()
    before = sys.getrefcount(True)
    for _ in range(3):
        probe.ping.emit()
    return sys.getrefcount(True) < before


def run_app(home, settings, first_request: dict, *, worker: bool = True, tray: bool | None = None,
            background: bool = False) -> int:
    """Run the desktop app until Quit; ``first_request`` is what this launch asked for."""
    import signal

    from vlagent.gui.instance import InstanceServer, send_request

    if signal_emit_leaks():
        import PySide6

        print(f"vlagent: PySide6 {PySide6.__version__} has a bug that crashes the desktop app; install another "
              "version: pip install 'PySide6-Essentials==6.11.3'", file=sys.stderr)
        return 1
    # argv[0] names the X11 window class. instance() is typed QCoreApplication; one made earlier in
    # this process is a QApplication (only the GUI makes one).
    qapp = cast(QApplication, QApplication.instance() or QApplication(["vlagent"]))
    qapp.setApplicationName("vlagent")
    qapp.setApplicationDisplayName("vlagent")
    qapp.setDesktopFileName("vlagent")
    server = InstanceServer(home)
    if not server.listen():  # another launch started first, a moment ago
        reply = send_request(home, first_request)
        if reply and reply.get("ok"):
            return 0
        print("vlagent: another vlagent app holds this data home but does not answer", file=sys.stderr)
        return 1
    app = DesktopApp(qapp, home, settings, agent=worker, tray=tray)
    server.requested.connect(app.handle_request)
    app.start()
    if first_request.get("action") != "show" or not (background and app.tray is not None):
        app.handle_request(first_request)
    # Ctrl+C and SIGTERM end the app cleanly (the agent requeues what it was doing); Python
    # only sees signals while it runs, so a timer wakes it up now and then.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    tick = QTimer()
    tick.setInterval(500)
    tick.timeout.connect(lambda: None)
    tick.start()
    try:
        return qapp.exec()
    finally:
        tick.stop()
        server.close()
        app.shutdown()
