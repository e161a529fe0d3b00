"""Dynamic batching: chat generations that arrive together run as one batch.

Every generation the API asks for (a chat completion, a describe with a prompt or knobs)
goes through one :class:`ChatScheduler`. The first request of a batch books one turn on the
inference worker (:meth:`~vlagent.worker.inference.InferenceWorker.run_model`, ahead of queued
jobs). When the turn comes, the scheduler takes every request that is waiting, up to
``vlm.batch_size`` (``--max-num-seqs``), and hands them to the engine's ``chat_many`` in one
call: each streams to its own client and stops on its own (its ``max_tokens``, a stop
sequence, its client hanging up) while the others go on. Requests arriving meanwhile wait for
the next turn, which they then share. An engine without ``chat_many`` answers them one after
another.

Waiting for company costs the first request nothing when nobody else is coming: the
scheduler waits (at most :data:`BATCH_WAIT_S`) only while others are on their way — requests
admitted and still being read or decoded (:meth:`ChatScheduler.expect`), or, just after a
batch, the clients of that batch that have not sent their next request yet. Without the
latter, clients that each send their next request when their answer is in split into two
groups taking turns (each batch half full, the other half waiting for it), for good.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vlagent.vlm.base import CancelToken, ChatMessage, Generation, GenerationOptions, VlmError

if TYPE_CHECKING:
    from vlagent.worker.inference import InferenceWorker

log = logging.getLogger(__name__)

BATCH_WAIT_S = 0.02  # the longest a batch waits for requests on their way


@dataclass
class Pending:
    messages: list[ChatMessage]
    options: GenerationOptions
    on_token: Callable[[str], None] | None
    cancel: CancelToken
    future: Future = field(default_factory=Future)
    queued_at: float = field(default_factory=time.monotonic)


class Ticket:
    """An admitted request that will (probably) submit a generation soon; ``drop()`` when it won't."""

    def __init__(self, scheduler: ChatScheduler):
        self._scheduler: ChatScheduler | None = scheduler

    def drop(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler._arrived()

    def taken(self) -> bool:
        """Its request is being submitted (the scheduler counts it off); False when already dropped."""
        live, self._scheduler = self._scheduler is not None, None
        return live


class ChatScheduler:
    def __init__(self, worker: InferenceWorker, max_batch: Callable[[], int],
                 on_batch: Callable[[int], None] | None = None, on_wait: Callable[[float], None] | None = None,
                 wait_s: float = BATCH_WAIT_S):
        self.worker = worker
        self.max_batch = max_batch
        self.on_batch = on_batch  # told each batch's size (metrics)
        self.on_wait = on_wait  # told how long each request waited for its batch, in seconds
        self.wait_s = wait_s
        self._cond = threading.Condition()
        self._pending: deque[Pending] = deque()
        self._expected = 0  # admitted requests that have not submitted yet
        self._booked = False  # a turn on the worker is booked and has not started
        self._closed = False
        self._last_size = 0  # the last batch's size, when it ended, and the requests submitted since
        self._last_end = 0.0
        self._since_end = 0
        self.batches = 0
        self.running = 0  # generations in the batch on the worker now

    # --- any thread ---------------------------------------------------------------------
    @property
    def waiting(self) -> int:
        return len(self._pending)

    def expect(self) -> Ticket:
        with self._cond:
            self._expected += 1
        return Ticket(self)

    def _arrived(self) -> None:
        with self._cond:
            self._expected = max(0, self._expected - 1)
            self._cond.notify_all()

    def submit(self, messages: list[ChatMessage], options: GenerationOptions,
               on_token: Callable[[str], None] | None, cancel: CancelToken, ticket: Ticket | None = None) -> Future:
        """Queue one generation; the future holds its :class:`Generation` (or its error)."""
        item = Pending(messages, options, on_token, cancel)
        arrived = ticket is not None and ticket.taken()
        with self._cond:
            if arrived:  # no longer waited for: counted off in the same step as it is queued
                self._expected = max(0, self._expected - 1)
            if self._closed:
                item.future.set_exception(_stopped("the API server is stopping"))
                return item.future
            self._pending.append(item)
            self._since_end += 1
            book = not self._booked
            self._booked = True
            self._cond.notify_all()
        if book:
            self._book()
        return item.future

    def reopen(self) -> None:
        """Take requests again (the server started again after :meth:`close`)."""
        with self._cond:
            self._closed = False

    def close(self) -> None:
        """Fail every generation that has not started (the server stops)."""
        with self._cond:
            self._closed = True
            left, self._pending = list(self._pending), deque()
            self._cond.notify_all()
        for item in left:
            _fail(item, _stopped("the API server stopped"))

    # --- the worker's turn ----------------------------------------------------------------
    def _book(self) -> None:
        turn = self.worker.run_model(self._turn, label="API requests")
        turn.add_done_callback(self._turn_ended)

    def _turn_ended(self, turn: Future) -> None:
        error = turn.exception()
        if error is None:
            return
        # The turn never ran (no model backend, the worker stopped): nothing will take these.
        with self._cond:
            left, self._pending = list(self._pending), deque()
            self._booked = False
        for item in left:
            _fail(item, error)

    def _turn(self, engine: Any) -> None:  # on the worker's thread
        batch = self._take()
        with self._cond:
            self._booked = bool(self._pending)
            book = self._booked
        if book:  # the next turn, for whoever did not fit or arrives meanwhile
            self._book()
        if batch:
            self._generate(engine, batch)

    def _take(self) -> list[Pending]:
        limit = max(1, int(self.max_batch()))
        with self._cond:
            if limit > 1 and self._pending:
                deadline = max(self._pending[0].queued_at, self._last_end) + self.wait_s
                while len(self._pending) < limit and not self._closed and (
                        self._expected > 0 or self._since_end < self._last_size):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            batch: list[Pending] = []
            gone: list[Pending] = []  # their clients left before their turn: no place in the batch
            while self._pending and len(batch) < limit:
                item = self._pending.popleft()
                if item.future.set_running_or_notify_cancel():
                    (gone if item.cancel.cancelled else batch).append(item)
        for item in gone:
            item.future.set_result(_cancelled(self.worker.engine, item))
        if self.on_wait is not None:
            now = time.monotonic()
            for item in batch:
                self.on_wait(now - item.queued_at)
        return batch

    def _generate(self, engine: Any, batch: list[Pending]) -> None:
        live = []
        for item in batch:
            if item.cancel.cancelled:  # the client left before its turn
                item.future.set_result(_cancelled(engine, item))
            else:
                live.append(item)
        if not live:
            return
        self.batches += 1
        self.running = len(live)
        if self.on_batch is not None:
            self.on_batch(len(live))
        many = getattr(engine, "chat_many", None)
        try:
            if many is not None and len(live) > 1:
                outcomes = self._many(many, live)
            else:  # one request, or an engine that answers one at a time: each answered when done
                outcomes = []
                for k, item in enumerate(live):
                    outcome = self._one(engine, item)
                    if k == len(live) - 1:
                        outcomes = [(item, outcome)]
                    elif isinstance(outcome, Exception) or not isinstance(outcome, BaseException):
                        _resolve(item, outcome)
                        self.running -= 1
                    else:  # interrupted: the rest are not run
                        outcomes = [(i, outcome) for i in live[k:]]
                        break
        finally:
            self.running = 0
        # Noted before the answers go out: a client that sends its next request at once is
        # counted as back (see the module's doc).
        with self._cond:
            self._last_size = len(live) if many is not None else 0
            self._last_end, self._since_end = time.monotonic(), 0
        for item, result in outcomes:
            _resolve(item, result)
        fatal = next((r for _, r in outcomes if isinstance(r, BaseException) and not isinstance(r, Exception)), None)
        if fatal is not None:
            raise fatal

    @staticmethod
    def _many(many: Callable, live: list[Pending]) -> list[tuple[Pending, Any]]:
        from vlagent.vlm.base import ChatRequest

        requests = [ChatRequest(messages=i.messages, options=i.options, on_token=i.on_token, cancel=i.cancel)
                    for i in live]
        try:
            results = list(many(requests))
        except BaseException as e:  # (re-raised by _generate once every client has its answer)
            return [(item, e) for item in live]
        results += [VlmError("the engine gave no answer")] * (len(live) - len(results))
        return list(zip(live, results))

    @staticmethod
    def _one(engine: Any, item: Pending) -> Any:
        try:
            return engine.chat(item.messages, item.options, on_token=item.on_token, cancel=item.cancel)
        except BaseException as e:  # (re-raised by _generate once every client has its answer)
            return e


def _resolve(item: Pending, outcome: Any) -> None:
    if isinstance(outcome, BaseException):
        _fail(item, outcome)
    elif not item.future.done():
        item.future.set_result(outcome)


def _fail(item: Pending, error: BaseException) -> None:
    if not item.future.done() and not item.future.cancelled():
        if not item.future.running():
            item.future.set_running_or_notify_cancel()
        item.future.set_exception(error)


def _stopped(message: str) -> Exception:
    from vlagent.worker.inference import WorkerStopped

    return WorkerStopped(message)


def _cancelled(engine: Any, item: Pending) -> Generation:
    return Generation(text="", engine=getattr(engine, "name", ""), model=getattr(engine, "model_id", ""),
                      prompt=item.messages[-1].text if item.messages else None, params=item.options.as_dict(),
                      timings={}, finish_reason="cancelled")
