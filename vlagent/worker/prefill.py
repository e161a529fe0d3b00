"""Reading an image while the user types the question.

``worker.prefill(image_ids)`` (the moment an image is opened for asking: the desktop ask
panel, ``capture --ask`` in the hotkey flow, a web/API chat that uploaded its image) runs
the vision encoder and the prefill of the prompt up to where the question goes, on the
worker's thread ahead of background work, every core busy. The question then comes as
usual through ``worker.ask(image_ids, question, history)`` with the same images, history
and options: only its own tokens are read. A question that arrives while the prefill is
still running waits for it (the worker runs one model call at a time); nothing is thrown
away. ``handle.close()`` when the image is closed: a prefill still running stops at the
next layer, a finished one frees its memory.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from vlagent.common import CancelToken
from vlagent.vlm.base import Cancelled, VlmError

if TYPE_CHECKING:
    from vlagent.jobs.runner import JobRunner
    from vlagent.settings import Settings

log = logging.getLogger(__name__)


class PrefillHandle(Future):
    """A prefill in progress or done. Its result: what reading cost (``tokens``,
    ``visual_tokens``, ``vision_ms``, ``prefill_ms``, ``cached_tokens``), or None when the
    engine cannot prefill (a remote server: it keeps its own cache). ``close()`` (or
    ``cancel()``) when the image is closed without (more) questions."""

    def __init__(self, image_ids: list[int], history: list[dict], options: dict | None):
        super().__init__()
        if not image_ids:
            raise ValueError("prefill at least one image")
        self.image_ids = image_ids
        self.history = history
        self.options = options
        self.token = CancelToken()
        self._pin: Any = None  # the engine's PrefixHandle once done
        self._lock = threading.Lock()
        self.closed = False

    @property
    def cancel_requested(self) -> bool:
        return self.token.cancelled

    @property
    def tokens(self) -> int:
        """The prompt tokens held ready (0 until done, and after close)."""
        pin = self._pin
        return pin.tokens if pin is not None and not pin.released else 0

    def cancel(self) -> bool:
        self.close()
        return True

    def close(self) -> None:
        """The image is closed: stop a running prefill, free a finished one. Idempotent."""
        with self._lock:
            self.closed = True
            self.token.cancel()
            pin, self._pin = self._pin, None
        if pin is not None:
            pin.release()

    # --- called on the worker's thread -------------------------------------------------
    def _set_pin(self, pin) -> None:
        with self._lock:
            closed = self.closed
            if not closed:
                self._pin = pin
        if closed:  # closed while reading: nothing to keep
            pin.release()
            self._confirm_cancelled()
            return
        self.set_result(dict(pin.timings))

    def _confirm_cancelled(self) -> None:
        Future.cancel(self)
        self.set_running_or_notify_cancel()

    def _fail(self, exc: BaseException) -> None:
        if not self.done():
            self.set_exception(exc)


def run_prefill(handle: PrefillHandle, runner: JobRunner, engine, settings: Settings) -> None:
    """Build the prompt the question will have (the ``ask`` step's own way, question empty)
    and let the engine read it. On the worker's thread."""
    if handle.cancel_requested:
        handle._confirm_cancelled()
        return
    step = runner.steps.get("ask")
    if step is None or not hasattr(step, "conversation"):
        handle._fail(VlmError("no vision-language model backend is available to answer questions"))
        return
    try:
        first = [runner.load_image(handle.image_ids[0]).image]
        payload = {"image_ids": handle.image_ids[1:], "history": handle.history, "options": handle.options}
        messages, opts, _ = step.conversation(handle.image_ids[0], "", payload, first)
    except Exception as e:  # a missing image, a malformed history
        handle._fail(e if isinstance(e, VlmError) else VlmError(f"cannot prefill: {e}"))
        return
    target = engine.get() if hasattr(engine, "get") else engine
    prefill = getattr(target, "prefill", None)
    if prefill is None:
        handle.set_result(None)
        return
    try:
        pin = prefill(messages, opts, cancel=handle.token)
    except Cancelled:
        handle._confirm_cancelled()
    except Exception as e:
        log.info("prefill failed: %s", e)
        handle._fail(e)
    else:
        handle._set_pin(pin)
