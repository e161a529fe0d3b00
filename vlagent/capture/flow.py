"""After the pixels: save a capture as PNG under the data home's ``captures/``, index it as a
``screenshot`` at screenshot priority, run its jobs, answer a question about it, and discard
it when the user asked not to keep it. No Qt here: the CLI and the desktop app share it.

Everything stays on this machine; the image only leaves it when the question is answered by
a remote backend the user configured (``vlm.backend = openai``).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

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
    if settings.get("privacy.paused"):
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
    t2 = time.perf_counter()
    return StoredCapture(out.image_id, Path(out.path), image.width, image.height, created=out.status == NEW,
                         timings={"encode_ms": round((t1 - t0) * 1000, 1),
                                  "ingest_ms": round((t2 - t1) * 1000, 1)})


def pending_jobs(index, image_id: int) -> int:
    return index.conn.execute("SELECT count(*) FROM jobs WHERE image_id = ? AND state IN ('pending', 'running')",
                              (image_id,)).fetchone()[0]


def run_capture_jobs(index, settings, home, image_id: int, *, on_report: Callable | None = None) -> int:
    """Run the queued work until this capture's own jobs are done. Its jobs are the most
    urgent in the queue (only interactive answers outrank them), so they are claimed first;
    returns how many jobs ran. Stops when another worker holds this capture's jobs."""
    from vlagent.index.queue import new_worker_id
    from vlagent.ingest.workers import build_runner

    runner = build_runner(index, settings, home, worker_id=new_worker_id())
    ran = 0
    while pending_jobs(index, image_id):
        jobs = runner.claim()
        if not jobs:
            break
        for report in runner.run(jobs):
            ran += 1
            if on_report:
                on_report(report)
    return ran


def answer_question(image: Image.Image, question: str, *, image_id: int, index, settings, home,
                    on_token: Callable[[str], None] | None = None):
    """Ask the model about the capture, streaming the answer's text to ``on_token``; the
    answer is stored with the image as the queue's ``ask`` step stores one (kind ``answer``,
    the question as its prompt), so search finds both. Returns the vlagent.vlm Generation."""
    from vlagent.index.store import Result
    from vlagent.vlm.base import ChatMessage, GenerationOptions
    from vlagent.vlm.factory import create_engine

    engine = create_engine(settings, home)
    gen = engine.chat([ChatMessage("user", question, [image])], GenerationOptions.from_settings(settings),
                      on_token=on_token)
    index.add_result(image_id, Result(
        kind="answer", text=gen.text.strip(), engine=gen.engine, model=gen.model, prompt=question,
        params=dict(gen.params, image_ids=[image_id], turns=1), latency_ms=gen.latency_ms, timings=gen.timings))
    return gen


def discard_capture(index, stored: StoredCapture) -> None:
    """``capture.keep = false``: remove what this capture added. When the same pixels had been
    captured and kept before, that earlier record and its file stay."""
    if not stored.created:
        return
    index.forget(stored.image_id)
    stored.path.unlink(missing_ok=True)
