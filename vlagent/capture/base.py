"""What every capture handler returns, the Protocol they implement, and their errors.

All geometry here is in physical pixels. A :class:`Shot` holds one image of the whole
virtual desktop plus the rectangle of every monitor inside it, so a per-monitor image or
a region is a crop of the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from PIL import Image


class CaptureError(Exception):
    """A capture failed; the message says why in one sentence."""


class NoUsableHandler(CaptureError):
    """Every handler was unusable here or failed; ``attempts`` lists each one's reason."""

    def __init__(self, attempts: list[Attempt]):
        self.attempts = attempts
        reasons = "; ".join(f"{a.handler}: {a.reason}" for a in attempts) or "no handler configured"
        super().__init__(f"cannot capture the screen ({reasons})")


class CapturePaused(CaptureError):
    """Capturing is paused in the privacy settings."""


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), PIL's crop box."""
        return (self.x, self.y, self.right, self.bottom)

    def intersect(self, other: Rect) -> Rect | None:
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.right, other.right), min(self.bottom, other.bottom)
        if x1 <= x0 or y1 <= y0:
            return None
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def as_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


@dataclass(frozen=True)
class Monitor:
    """One monitor: ``rect`` is its place in the Shot's image (physical pixels, origin at
    the virtual desktop's top-left); ``scale`` is its device pixel ratio when known."""

    index: int  # 1-based, as ``--monitor N``
    rect: Rect
    name: str = ""
    primary: bool = False
    scale: float | None = None

    def as_dict(self) -> dict:
        return {"index": self.index, "name": self.name, "primary": self.primary, "scale": self.scale,
                **self.rect.as_dict()}


@dataclass
class Attempt:
    """Why a handler did not produce the image (skipped as unusable, or failed)."""

    handler: str
    reason: str
    failed: bool = False  # False: skipped as unusable here; True: tried and raised

    def as_dict(self) -> dict:
        return {"handler": self.handler, "reason": self.reason, "failed": self.failed}


@dataclass
class Shot:
    image: Image.Image  # RGB, the whole virtual desktop in physical pixels
    monitors: list[Monitor]
    handler: str = ""
    origin: tuple[int, int] = (0, 0)  # the virtual desktop's top-left in the OS's coordinates
    attempts: list[Attempt] = field(default_factory=list)
    ms: float = 0.0

    def monitor(self, index: int) -> Monitor:
        for m in self.monitors:
            if m.index == index:
                return m
        raise CaptureError(f"there is no monitor {index} (monitors: "
                           f"{', '.join(str(m.index) for m in self.monitors) or 'none known'})")

    def monitor_image(self, index: int) -> Image.Image:
        """0 = the whole virtual desktop, N = monitor N."""
        if index == 0:
            return self.image
        return self.crop(self.monitor(index).rect)

    def crop(self, rect: Rect) -> Image.Image:
        inside = rect.intersect(Rect(0, 0, *self.image.size))
        if inside is None or inside != rect:
            raise CaptureError(f"region {rect.as_dict()} is not inside the {self.image.width}x"
                               f"{self.image.height} screen image")
        return self.image.crop(rect.box)

    def describe(self) -> dict:
        """How the screen was captured: by which handler, the whole image's size, every
        monitor's geometry, and why the handlers before it were skipped."""
        return {"handler": self.handler, "width": self.image.width, "height": self.image.height,
                "monitors": [m.as_dict() for m in self.monitors], "ms": round(self.ms, 1),
                "skipped": [a.as_dict() for a in self.attempts]}


@dataclass
class Availability:
    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


@runtime_checkable
class CaptureHandler(Protocol):
    name: str

    def available(self) -> Availability:
        """Whether this handler can work in this session (cheap: no screen grab)."""

    def grab(self) -> Shot:
        """The whole virtual desktop with every monitor's geometry; raises CaptureError."""
