"""Interactive questions: what a caller (GUI, API, CLI) holds while the worker answers.

``worker.ask(image_ids, question, history, on_token)`` returns an :class:`AskHandle`, a
:class:`concurrent.futures.Future` whose result is an :class:`AskAnswer`. The question is
stored as an ``ask`` job at ``PRIO_INTERACTIVE`` (so it survives a crash and is answered
on restart), text pieces reach ``on_token`` as they are generated (on the worker's
thread: a GUI turns them into signals), and ``cancel()`` stops the generation at the
next token. The answer is stored as an ``answer`` result of the first image.

Job payload (the ``ask`` step reads it): the job's ``image_id`` is the first image; ::

    {"question": str, "image_ids": [more image ids, ...],
     "history": [{"role": "user" | "assistant", "text": str}, ...],
     "options": {generation option overrides, e.g. "max_new_tokens": 64}}  # optional

The images go with the question; earlier turns are text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field

ROLES = ("user", "assistant")


@dataclass
class AskAnswer:
    text: str
    job_id: int
    image_id: int
    engine: str = ""
    model: str | None = None
    timings: dict = field(default_factory=dict)


def normalize_history(history: Iterable | None) -> list[dict]:
    """Earlier turns as ``[{"role", "text"}]``; accepts dicts or (role, text) pairs."""
    out = []
    for turn in history or ():
        if isinstance(turn, dict):
            role, text = turn.get("role"), turn.get("text", turn.get("content"))
        else:
            role, text = turn
        if role not in ROLES or not isinstance(text, str):
            raise ValueError(f"a history turn needs role user|assistant and a text, got {turn!r}")
        out.append({"role": role, "text": text})
    return out


def ask_payload(image_ids: list[int], question: str, history: Iterable | None,
                options: dict | None = None) -> tuple[int, dict]:
    """(the job's image id, its payload)."""
    ids = [int(i) for i in image_ids]
    if not ids:
        raise ValueError("ask about at least one image")
    if not question or not question.strip():
        raise ValueError("the question is empty")
    payload: dict[str, object] = {"question": question, "image_ids": ids[1:], "history": normalize_history(history)}
    if options:
        payload["options"] = dict(options)
    return ids[0], payload


class AskHandle(Future):
    """A pending answer. ``cancel()`` asks the worker to stop; the future then ends
    cancelled (``result()`` raises ``CancelledError``) once the worker confirms."""

    def __init__(self, image_id: int, payload: dict, on_token: Callable[[str], None] | None,
                 request_cancel: Callable[[AskHandle], None]):
        super().__init__()
        self.image_id = image_id
        self.payload = payload
        self._on_token = on_token
        self._request_cancel = request_cancel
        self._job_id: int | None = None
        self._queued = threading.Event()
        self._pieces: list[str] = []
        self.cancel_requested = False

    @property
    def job_id(self) -> int | None:
        return self._job_id

    def wait_queued(self, timeout: float | None = None) -> int | None:
        """Block until the question is stored in the queue; returns its job id."""
        self._queued.wait(timeout)
        return self._job_id

    @property
    def partial(self) -> str:
        """The text streamed so far."""
        return "".join(self._pieces)

    def cancel(self) -> bool:
        if self.done():
            return False
        self.cancel_requested = True
        self._request_cancel(self)
        return True

    # --- called by the worker -------------------------------------------------------
    def _set_queued(self, job_id: int) -> None:
        self._job_id = job_id
        self._queued.set()

    def _token(self, piece: str) -> None:
        self._pieces.append(piece)
        if self._on_token is not None:
            self._on_token(piece)

    def _confirm_cancelled(self) -> None:
        self._queued.set()
        Future.cancel(self)
        self.set_running_or_notify_cancel()

    def _fail(self, exc: BaseException) -> None:
        self._queued.set()
        if not self.done():
            self.set_exception(exc)
