"""Capture with ``grim`` on wlroots compositors (sway, Hyprland, river, …).

grim talks wlr-screencopy directly: silent and fast where the compositor supports it, and it
fails at once with a message where it doesn't (GNOME, KDE), so the chain moves on quickly.
It reports no monitor geometry, so the Shot's monitor list stays empty.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import time

from PIL import Image, UnidentifiedImageError

from vlagent.capture.base import Availability, CaptureError, Shot
from vlagent.capture.session import WAYLAND, Session, detect

TIMEOUT_S = 10.0


class GrimHandler:
    name = "grim"

    def __init__(self, session: Session | None = None, timeout: float = TIMEOUT_S):
        self.session = session or detect()
        self.timeout = timeout

    def available(self) -> Availability:
        if self.session.kind != WAYLAND:
            return Availability(False, "not a Wayland session")
        if shutil.which("grim") is None:
            return Availability(False, "grim is not installed")
        return Availability(True)

    def grab(self) -> Shot:
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(["grim", "-t", "png", "-"], capture_output=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise CaptureError(f"grim did not finish in {self.timeout:.0f} s") from None
        except OSError as e:
            raise CaptureError(f"grim could not run: {e}") from e
        if proc.returncode != 0:
            msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise CaptureError(f"grim failed: {msg[-1] if msg else f'exit code {proc.returncode}'}")
        try:
            image = Image.open(io.BytesIO(proc.stdout)).convert("RGB")
        except (UnidentifiedImageError, OSError) as e:
            raise CaptureError(f"grim wrote no readable PNG: {e}") from e
        return Shot(image, [], handler=self.name, ms=(time.perf_counter() - t0) * 1000)
