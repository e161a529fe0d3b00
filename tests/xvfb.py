"""Start private X servers for the tests: Xvfb on a free display number, optionally split
into several RandR monitors (what a multi-monitor desk looks like to X clients)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class XServer:
    display: str
    proc: subprocess.Popen
    width: int
    height: int
    monitors: list[tuple[int, int, int, int]] = field(default_factory=list)

    def env(self, **extra) -> dict:
        env = dict(os.environ)
        env.pop("WAYLAND_DISPLAY", None)
        env.update(DISPLAY=self.display, XDG_SESSION_TYPE="x11", QT_QPA_PLATFORM="xcb")
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def xvfb_missing() -> bool:
    return shutil.which("Xvfb") is None


def _free_display() -> int:
    for n in range(120, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number")


def start_xvfb(width: int = 1920, height: int = 1080,
               monitors: list[tuple[int, int, int, int]] | None = None) -> XServer:
    """Xvfb ``-noreset`` (monitors set by a client survive its exit); ``monitors`` are
    (x, y, width, height) rectangles defined with RandR 1.5 SetMonitor."""
    for _ in range(5):
        n = _free_display()
        proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
                                 "-noreset"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                break
            time.sleep(0.02)
        if proc.poll() is None:
            server = XServer(f":{n}", proc, width, height, list(monitors or []))
            if monitors:
                set_monitors(server.display, monitors)
            return server
    raise RuntimeError("Xvfb did not start")


def set_monitors(display: str, monitors: list[tuple[int, int, int, int]]) -> None:
    from Xlib import display as xdisplay
    from Xlib.ext import randr
    from Xlib.protocol import rq

    class SetMonitor(rq.Request):  # python-xlib 0.33's own set_monitor cannot pack its struct
        _request = rq.Struct(
            rq.Card8("opcode"), rq.Opcode(43), rq.RequestLength(), rq.Window("window"),
            rq.Card32("name"), rq.Bool("primary"), rq.Bool("automatic"), rq.LengthOf("outputs", 2),
            rq.Int16("x"), rq.Int16("y"), rq.Card16("width"), rq.Card16("height"),
            rq.Card32("mm_width"), rq.Card32("mm_height"), rq.List("outputs", rq.Card32Obj))

    d = xdisplay.Display(display)
    try:
        root = d.screen().root
        outputs = root.xrandr_get_screen_resources().outputs
        for i, (x, y, w, h) in enumerate(monitors):
            # The first monitor takes over the real output, replacing its automatic monitor.
            SetMonitor(display=d.display, opcode=d.display.get_extension_major(randr.extname), window=root,
                       name=d.intern_atom(f"VLMON{i}"), primary=i == 0, automatic=False, x=x, y=y, width=w,
                       height=h, mm_width=w * 254 // 960, mm_height=h * 254 // 960,
                       outputs=outputs[:1] if i == 0 else [])
        d.sync()
    finally:
        d.close()
