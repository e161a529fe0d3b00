"""Parallel OCR: one single-threaded copy of the models per worker, fed from a shared queue.

onnxruntime can split every operator of one model call across threads, but then each
operator waits for its slowest thread: when another program (the VLM, a build, the user's
browser) keeps one core busy, two such threads read a page about 2× *slower* than one.
Independent calls don't wait for each other. So each worker owns its own single-threaded
models, the work of one image is cut into pieces (detector bands, text lines) and the
workers take pieces from one queue, largest first: a worker slowed by a busy core simply
takes fewer pieces. Measured on the 2-core reference machine (1080p pages, recognition
only): idle, 770 ms against 803 ms for two intra-op threads; with one core busy, 1,175 ms
against 1,786 ms (and 1,454 ms for a single thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

M = TypeVar("M")  # one worker's models
T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 8


def worker_count(setting: int, cores: int) -> int:
    """``setting`` workers, or with 0 one per core (at most :data:`MAX_WORKERS`)."""
    return setting if setting > 0 else max(1, min(cores, MAX_WORKERS))


class ModelCopies(Generic[M]):
    """``size`` workers, each with models made by ``load`` (called lazily, in parallel, once
    per worker). :meth:`map` runs one batch of pieces at a time."""

    def __init__(self, size: int, load: Callable[[], M]):
        self.size = max(1, size)
        self._load = load
        self._models: list[M] = []
        self._executor: ThreadPoolExecutor | None = None
        self._loading = threading.Lock()

    @property
    def loaded(self) -> bool:
        return bool(self._models)

    def models(self) -> list[M]:
        with self._loading:
            if not self._models:
                self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="vlagent-ocr")
                loads = [self._executor.submit(self._load) for _ in range(self.size)]
                self._models = [f.result() for f in loads]
        return self._models

    def _started(self) -> tuple[list[M], ThreadPoolExecutor]:
        """The workers' models and their executor, loading them if needed."""
        models = self.models()
        executor = self._executor
        assert executor is not None  # models() started it
        return models, executor

    def each(self, fn: Callable[[M], R]) -> list[R]:
        """``fn(models)`` on every worker at once (to warm them up)."""
        models, executor = self._started()
        return [f.result() for f in [executor.submit(fn, m) for m in models]]

    def map(self, fn: Callable[[M, T], R], items: Sequence[T], cost: Callable[[T], float]) -> list[R]:
        """``fn(models, item)`` for every item, results in the items' order. Items are handed
        out most costly first, each to whichever worker is free. The first error is raised
        once all workers have stopped."""
        models, executor = self._started()
        if not items:
            return []
        order = iter(sorted(range(len(items)), key=lambda i: -cost(items[i])))
        take = threading.Lock()
        results: list = [None] * len(items)
        failed: list[BaseException] = []

        def work(mine: M) -> None:
            while not failed:
                with take:
                    i = next(order, None)
                if i is None:
                    return
                try:
                    results[i] = fn(mine, items[i])
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    failed.append(exc)

        busy = min(len(models), len(items))
        if busy == 1:
            work(models[0])  # one piece or one worker: no hand-over to another thread
        else:
            for f in [executor.submit(work, m) for m in models[:busy]]:
                f.result()
        if failed:
            raise failed[0]
        return results

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self._models, self._executor = [], None
