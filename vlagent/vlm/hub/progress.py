"""Byte progress from the hub clients into one bar (``vlagent.cli.output.Progress`` or any sink)."""

from __future__ import annotations

import threading
from typing import Protocol


class ByteSink(Protocol):
    total: int | None
    done: int

    def set_total(self, total: int) -> None: ...

    def advance(self, n: int = 1, note: str = "") -> None: ...


class NullSink:
    total: int | None = None
    done: int = 0

    def set_total(self, total: int) -> None:
        self.total = total

    def advance(self, n: int = 1, note: str = "") -> None:
        self.done += n


class LockedSink:
    """Serialises updates that arrive from a hub client's worker threads."""

    def __init__(self, sink: ByteSink):
        self.sink = sink
        self._lock = threading.Lock()

    def advance(self, n: int, note: str = "") -> None:
        with self._lock:
            if n < 0:  # bytes thrown away (a server that ignored a Range request): more to fetch
                self.sink.set_total((self.sink.total or 0) - n)
            else:
                self.sink.advance(n, note)


def tqdm_adapter(sink: ByteSink) -> type:
    """A class huggingface_hub's ``http_get`` accepts as ``tqdm_class``; it reports to ``sink``."""
    locked = LockedSink(sink)

    class _Bar:
        def __init__(self, *args, desc: str = "", **kwargs):
            self.desc = desc

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

        def update(self, n: int | float | None = 1) -> None:
            locked.advance(int(n or 0), self.desc)

        def close(self) -> None:
            pass

    return _Bar


def modelscope_callback(sink: ByteSink) -> type:
    """A ``modelscope`` ProgressCallback class reporting to ``sink`` (instantiated per file)."""
    from modelscope.hub.callback import ProgressCallback

    locked = LockedSink(sink)

    class _Callback(ProgressCallback):
        def __init__(self, filename: str, file_size: int):
            super().__init__(filename, file_size)
            self.name = filename

        def update(self, size: int) -> None:
            locked.advance(int(size), self.name)

        def end(self) -> None:
            pass

    return _Callback
