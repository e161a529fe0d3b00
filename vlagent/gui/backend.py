"""What the windows share: the data home, the settings, the background threads that read and
write the index, the thumbnail cache and, when it runs, the agent (worker + watcher)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from vlagent.gui.tasks import IndexThread, TaskThread
from vlagent.gui.thumbnails import Thumbnails


class Backend(QObject):
    index_changed = Signal()  # images were added, changed or forgotten: visible results may be stale
    image_changed = Signal(int)  # one image got a new result (OCR, description, answer)
    image_forgotten = Signal(int)

    def __init__(self, home, settings, agent=None, parent: QObject | None = None):
        super().__init__(parent)
        self.home = home
        self.settings = settings
        self.agent = agent  # vlagent.gui.agent_bridge.AgentBridge, or None (search only)
        self.reader = IndexThread("search", home, parent=self)
        self.writer = IndexThread("index-writes", home, create=True, parent=self)
        self.images = TaskThread("images", self)
        self.thumbnails = Thumbnails(parent=self)
        if agent is not None:
            agent.job_finished.connect(self._job_finished)

    def _job_finished(self, report) -> None:
        image_id = getattr(report.job, "image_id", None)
        if report.ok and image_id is not None:
            self.image_changed.emit(image_id)
            self.index_changed.emit()

    # --- writes (off the GUI thread) ------------------------------------------------------
    def forget(self, image_id: int, on_done: Callable[[bool], None] | None = None) -> None:
        def done(ok: bool) -> None:
            if ok:
                self.image_forgotten.emit(image_id)
                self.index_changed.emit()
            if on_done:
                on_done(ok)

        # As 'vlagent forget' does: its files stay out of the index while they are unchanged.
        self.writer.submit(lambda index: index.forget(image_id, keep_out=True), done)

    def import_files(self, paths: list[str], on_done: Callable[[list], None] | None = None,
                     on_error: Callable[[BaseException], None] | None = None) -> None:
        """Index files the user handed over (dropped, pasted) as the app's captures are:
        in place, source ``import``, their OCR (and model) jobs queued at screenshot priority.
        ``on_done`` gets one :class:`~vlagent.ingest.pipeline.Outcome` per path."""
        from vlagent.index.queue import PRIO_SCREENSHOT
        from vlagent.ingest.pipeline import Ingestor

        settings, home = self.settings, self.home

        def work(index) -> list:
            ingest = Ingestor(index, settings, home)
            return [ingest.ingest_path(p, source="import", priority=PRIO_SCREENSHOT) for p in paths]

        self.writer.submit(work, lambda outcomes: self._imported(outcomes, on_done), on_error)

    def import_image(self, data: bytes, name: str = "pasted.png", on_done: Callable[[list], None] | None = None,
                     on_error: Callable[[BaseException], None] | None = None) -> None:
        """Index an image that has no file (pasted): saved under the data home first, as uploads are."""
        from vlagent.index.queue import PRIO_SCREENSHOT
        from vlagent.ingest.pipeline import Ingestor

        settings, home = self.settings, self.home

        def work(index) -> list:
            return [Ingestor(index, settings, home).ingest_bytes(data, source="import", name=name,
                                                                 priority=PRIO_SCREENSHOT)]

        self.writer.submit(work, lambda outcomes: self._imported(outcomes, on_done), on_error)

    def _imported(self, outcomes: list, on_done: Callable[[list], None] | None) -> None:
        if any(o.image_id is not None for o in outcomes):
            from vlagent.index.queue import PRIO_SCREENSHOT

            if self.agent is not None:
                self.agent.wake(PRIO_SCREENSHOT)
            self.index_changed.emit()
        if on_done:
            on_done(outcomes)

    def describe_again(self, image_id: int, on_done: Callable[[int], None] | None = None) -> None:
        """Queue a new description of the image at interactive priority."""
        from vlagent.index.queue import PRIO_INTERACTIVE, JobQueue

        def queued(job_id: int) -> None:
            if self.agent is not None:
                self.agent.wake(PRIO_INTERACTIVE)
            if on_done:
                on_done(job_id)

        self.writer.submit(lambda index: JobQueue(index).enqueue(image_id, "describe", priority=PRIO_INTERACTIVE),
                           queued)

    def stop(self) -> None:
        for thread in (self.reader, self.writer, self.images, self.thumbnails.tasks):
            thread.stop()
