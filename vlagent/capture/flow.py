"""After the pixels: save a capture as PNG under the data home's ``captures/``, index it as a
``screenshot`` at screenshot priority, run its jobs, answer a question about it, and discard
it when the user asked not to keep it. No Qt here: the CLI and the desktop app share it.

Everything stays on this machine; the image only leaves it when the question is answered by
a remote backend the user configured (``vlm.backend = openai``).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from vlagent.capture.base import CaptureError, CapturePaused

PNG_COMPRESS_LEVEL = 3  # screenshots compress well already at 3; 6+ costs 2–3× the time for ~5% bytes


@dataclass
class StoredCapture:
    image_id: int
    path: Path
    width: int
    height: int
    created: bool  # False when the same pixels were captured before: that record is reused
    timings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"id": self.image_id, "path": str(self.path), "width": self.width, "height": self.height,
                "new": self.created}


def check_not_paused(settings) -> None:
    if settings.view.privacy.paused:
        raise CapturePaused("capturing is paused (privacy.paused is on): nothing was captured. "
                            "Resume with: vlagent config privacy.paused false")


def encode_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def store_capture(image: Image.Image, *, index, settings, home) -> StoredCapture:
    """Save and index the capture; its OCR (and, when enabled, model) jobs are queued at
    screenshot priority, ahead of folder backlogs."""
    from vlagent.index.queue import PRIO_SCREENSHOT
    from vlagent.ingest.pipeline import FAILED, NEW, Ingestor

    t0 = time.perf_counter()
    data = encode_png(image)
    t1 = time.perf_counter()
    out = Ingestor(index, settings, home).ingest_bytes(
        data, source="screenshot", name="capture.png", priority=PRIO_SCREENSHOT, keep_dir=home.captures)
    if out.status == FAILED:
        raise CaptureError(f"the capture could not be indexed: {out.error}")
    assert out.image_id is not None and out.path is not None  # set on every outcome but FAILED
    t2 = time.perf_counter()
    return StoredCapture(out.image_id, Path(out.path), image.width, image.height, created=out.status == NEW,
                         timings={"encode_ms": round((t1 - t0) * 1000, 1),
                                  "ingest_ms": round((t2 - t1) * 1000, 1)})


def pending_jobs(index, image_id: int) -> int:
    return index.active_job_count(image_id)


def capture_runner(index, settings, home):
    """The job runner a capture's work runs on (one per capture, shared by its jobs and its
    question, so one model engine serves both)."""
    from vlagent.jobs.build import build_runner

    return build_runner(index, settings, home)


def run_capture_jobs(index, settings, home, image_id: int, *, on_report: Callable | None = None,
                     runner=None) -> int:
    """Run the queued work until this capture's own jobs are done. Its jobs are the most
    urgent in the queue (only interactive answers outrank them), so they are claimed first;
    returns how many jobs ran. Stops when another worker holds this capture's jobs."""
    runner = runner or capture_runner(index, settings, home)
    return runner.run_until_empty(on_report=on_report, should_stop=lambda: not pending_jobs(index, image_id))


def answer_question(image: Image.Image, question: str, *, image_id: int, index, settings, home,
                    on_token: Callable[[str], None] | None = None, runner=None):
    """Ask the model about the capture, streaming the answer's text to ``on_token``. It runs
    the queue's ``ask`` step directly, so the answer is stored with the image exactly as a
    queued question's (kind ``answer``, the question as its prompt) and search finds both.
    Returns the stored :class:`~vlagent.index.store.Result`; raises
    :class:`~vlagent.vlm.base.VlmError` with the reason when it could not be answered."""
    from vlagent.imaging.load import LoadedImage
    from vlagent.jobs.runner import StepContext
    from vlagent.vlm.base import VlmError

    runner = runner or capture_runner(index, settings, home)
    ctx = StepContext(on_token=(lambda job, piece: on_token(piece)) if on_token else None)
    loaded = LoadedImage(image=image, data=b"", sha256="", format="PNG", width=image.width, height=image.height,
                         mode=image.mode, name="capture.png")
    rep = runner.run_direct("ask", loaded, image_id=image_id, payload={"question": question}, ctx=ctx)
    if not rep.ok:
        raise VlmError(rep.error or "the question could not be answered")
    return rep.results[0]


def discard_capture(index, stored: StoredCapture) -> None:
    """``capture.keep = false``: remove what this capture added. When the same pixels had been
    captured and kept before, that earlier record and its file stay."""
    if not stored.created:
        return
    index.forget(stored.image_id)
    stored.path.unlink(missing_ok=True)
