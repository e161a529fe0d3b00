"""Capture screen / Capture region from the app: grab (on the GUI thread: Qt's screen grab
must run there, mss takes a few ms), let the user select a region on the frozen screen,
then save and index the capture off the GUI thread (:mod:`vlagent.capture.flow`) and wake
the worker at screenshot priority. ``ready`` fires when its text is read."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

import vlagent.gui.screens  # noqa: F401 - registers the "qt" capture handler for vlagent.capture

if TYPE_CHECKING:
    from vlagent.capture.flow import StoredCapture

log = logging.getLogger(__name__)

MENU_CLOSE_MS = 200  # let the tray menu disappear before the screen is grabbed


@dataclass
class PendingCapture:
    image_id: int
    question: str | None
    keep: bool
    stored: StoredCapture


class CaptureController(QObject):
    stored = Signal(int, object)  # image id, the question asked with it (or None)
    ready = Signal(int, str)  # image id, its OCR text
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, backend, hide_windows=None, parent=None):
        super().__init__(parent)
        self.backend = backend
        self.hide_windows = hide_windows  # () -> callable restoring them
        self.pending: dict[int, PendingCapture] = {}
        self.overlay = None
        self.busy = False
        backend.image_changed.connect(self._image_changed)

    # --- entry points -----------------------------------------------------------------------
    def capture_screen(self) -> None:
        self._start(region=False, question=None, keep=None)

    def capture_region(self, question: str | None = None, keep: bool | None = None) -> None:
        self._start(region=True, question=question, keep=keep)

    def _start(self, *, region: bool, question: str | None, keep: bool | None) -> None:
        if self.busy:
            return  # one capture at a time (a selection may be on screen)
        self.busy = True
        restore = self.hide_windows() if self.hide_windows else None
        # Our menu and windows must be off the screen before it is grabbed.
        QTimer.singleShot(MENU_CLOSE_MS, lambda: self._grab(region, question, keep, restore))

    def _grab(self, region: bool, question: str | None, keep: bool | None, restore) -> None:
        from vlagent.capture import CaptureError, capture
        from vlagent.capture.flow import check_not_paused

        settings = self.backend.settings
        try:
            check_not_paused(settings)
            shot = capture(choice=settings.view.capture.backend)
        except CaptureError as e:
            self.busy = False
            if restore:
                restore()
            self.failed.emit(str(e))
            return
        if not region:
            self.busy = False
            if restore:
                restore()
            self._store(shot.monitor_image(0), question, keep)
            return
        from vlagent.gui.overlay import RegionOverlay

        self.overlay = RegionOverlay(shot, language=settings.view.general.language)

        def finished(selected) -> None:
            self.overlay = None
            self.busy = False
            if restore:
                restore()
            if selected is None:
                self.cancelled.emit()
            else:
                self._store(selected.image, question, keep)

        self.overlay.finished.connect(finished)
        self.overlay.show()

    # --- after the pixels ---------------------------------------------------------------------
    def _store(self, image, question: str | None, keep: bool | None) -> None:
        from vlagent.capture.flow import store_capture
        from vlagent.index.queue import PRIO_SCREENSHOT

        settings, home = self.backend.settings, self.backend.home
        keep = settings.view.capture.keep if keep is None else keep

        def stored(result) -> None:
            self.pending[result.image_id] = PendingCapture(result.image_id, question, keep, result)
            if self.backend.agent is not None:
                self.backend.agent.wake(PRIO_SCREENSHOT)
            self.backend.index_changed.emit()
            self.stored.emit(result.image_id, question)

        self.backend.writer.submit(lambda index: store_capture(image, index=index, settings=settings, home=home),
                                   stored, lambda e: self.failed.emit(str(e)))

    def _image_changed(self, image_id: int) -> None:
        pending = self.pending.get(image_id)
        if pending is None:
            return

        def text_read(text: str | None) -> None:
            if text is None or image_id not in self.pending:
                return  # OCR not done yet (another job finished first)
            self.ready.emit(image_id, text)
            if not pending.question:
                self.finish(image_id)

        self.backend.reader.submit(lambda index: _ocr_text(index, image_id), text_read)

    def finish(self, image_id: int) -> None:
        """The capture is done with (its text read, its question answered): drop it when the
        user asked not to keep captures."""
        pending = self.pending.pop(image_id, None)
        if pending is not None and not pending.keep:
            from vlagent.capture.flow import discard_capture

            def discarded(_r) -> None:
                self.backend.image_forgotten.emit(image_id)
                self.backend.index_changed.emit()

            self.backend.writer.submit(lambda index: discard_capture(index, pending.stored), discarded)


def _ocr_text(index, image_id: int) -> str | None:
    """The capture's OCR text once its OCR job is done, else None."""
    rows = index.results(image_id, "ocr")
    return rows[-1]["text"] if rows else None
