"""What the worker tells its listeners: a status snapshot (state, queue, current item,
rate, ETA) and, per finished job, the runner's :class:`~vlagent.jobs.runner.JobReport`."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass, field

STARTING, IDLE, BUSY, PAUSED, STOPPING, STOPPED = "starting", "idle", "busy", "paused", "stopping", "stopped"


@dataclass
class WorkerStatus:
    state: str = STARTING
    queued: int = 0  # jobs pending or running that this worker can run
    current: dict | None = None  # {"job_id", "kind", "image_id", "name", "batch"} while busy
    done: int = 0
    failed: int = 0
    rate: float = 0.0  # jobs per second over the recent window
    eta_s: float | None = None
    model_loaded: bool = False
    error: str | None = None  # why the worker stopped, when it did not stop cleanly
    at: float = field(default_factory=time.time)

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        """One human line, e.g. ``busy · 12 queued · ocr 截图.png · 2.1/s · ETA 6s``."""
        from vlagent.common import human_duration

        parts = [self.state, f"{self.queued} queued"]
        if self.current:
            name = self.current.get("name") or f"#{self.current.get('image_id')}"
            batch = self.current.get("batch", 1)
            parts.append(f"{self.current['kind']} {name}" + (f" (+{batch - 1})" if batch > 1 else ""))
        if self.rate > 0:
            parts.append(f"{self.rate:.1f}/s")
        if self.eta_s is not None and self.queued:
            parts.append(f"ETA {human_duration(self.eta_s)}")
        parts.append(f"{self.done} done")
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.model_loaded:
            parts.append("model loaded")
        if self.error:
            parts.append(f"error: {self.error}")
        return " · ".join(parts)


class RateMeter:
    """Jobs per second over the last ``window`` completions."""

    def __init__(self, window: int = 50):
        self._times: deque[tuple[float, int]] = deque(maxlen=window)

    def add(self, n: int = 1, now: float | None = None) -> None:
        self._times.append((now if now is not None else time.monotonic(), n))

    def rate(self) -> float:
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1][0] - self._times[0][0]
        count = sum(n for _, n in list(self._times)[1:])
        return count / span if span > 0 else 0.0

    def eta(self, remaining: int) -> float | None:
        r = self.rate()
        return remaining / r if r > 0 else None
