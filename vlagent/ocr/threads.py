"""Choosing how many threads OCR uses, image by image, from how fast each choice ran.

onnxruntime splits every operator across its threads and waits for the slowest. On idle
cores two threads read a page ~1.8× faster than one; when other programs (the VLM, a
build, the user's browser) keep the cores busy, the threads wait for each other and two
threads become ~2× *slower* than one. No setting is right for both, so the engine measures:
each image's model time is divided by the work it did (detector pixels, recogniser
columns), giving a "slowness" per thread count; the engine uses the count with the lowest
recent slowness and now and then re-tries the others, since the load changes.

:class:`ThreadChooser` holds only that decision: it is fed measurements and never reads a
clock, so what it picks follows from what it was told.
"""

from __future__ import annotations

# Model time on two idle cores of the reference machine: per megapixel through the detector,
# per thousand 48-px-high columns through the recogniser. Only their ratio matters here.
DET_MS_PER_MPX = 300.0
REC_MS_PER_KCOL = 50.0
MIN_WORK_MS = 50.0  # smaller images say more about fixed overheads than about threads


def expected_ms(det_mpx: float, rec_kcols: float) -> float:
    return det_mpx * DET_MS_PER_MPX + rec_kcols * REC_MS_PER_KCOL


def thread_options(cores: int) -> list[int]:
    """All cores, half of them, one: the thread counts worth comparing."""
    return sorted({max(1, cores), max(1, cores // 2), 1}, reverse=True)


class ThreadChooser:
    """Picks a thread count per image from the slowness measured for each option.

    Every option is tried once early (not back to back, so one burst of load doesn't decide
    for all); after that the least slow one is used, except that every ``probe_every``-th
    image goes to the option measured longest ago. An option's slowness is a running mean
    in which the past weighs ``memory`` per image since it was last measured: the option in
    use averages out noise, a probe's measurement all but replaces its stale value.
    """

    def __init__(self, options: list[int], *, probe_every: int = 10, memory: float = 0.5):
        self.options = list(options)
        self.probe_every = probe_every
        self.memory = memory
        self.slowness: dict[int, float] = {}
        self._measured_at: dict[int, int] = {}  # option → image number of its last measurement
        self._count = 0  # images picked for

    def pick(self) -> int:
        if len(self.options) == 1:
            return self.options[0]
        self._count += 1
        untried = [o for o in self.options if o not in self.slowness]
        if untried and (not self.slowness or self._count % 2 == 0):
            return untried[0]
        if self._count % self.probe_every == 0:
            return min(self.options, key=lambda o: self._measured_at.get(o, -1))
        return min(self.slowness, key=self.slowness.get)

    def record(self, threads: int, model_ms: float, work_ms: float) -> None:
        """``model_ms`` is how long the models took; ``work_ms`` what they'd take on idle cores.
        Images with little work, and thread counts that are not options, teach nothing."""
        if work_ms < MIN_WORK_MS or threads not in self.options or len(self.options) == 1:
            return
        value = model_ms / work_ms
        old = self.slowness.get(threads)
        if old is None:
            self.slowness[threads] = value
        else:
            weight = self.memory ** max(1, self._count - self._measured_at[threads])
            self.slowness[threads] = weight * old + (1 - weight) * value
        self._measured_at[threads] = self._count
