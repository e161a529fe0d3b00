"""The desktop app on a machine without a display: one paragraph saying what works here and
what to set, exit 1 — not Qt's abort (a core dump, exit 134, and its list of plugins). A Qt
platform chosen on purpose (QT_QPA_PLATFORM=offscreen) still runs the app."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, cli_env
from vlagent.gui.instance import send_request


def headless_env(home, **extra) -> dict:
    env = cli_env(home, **extra)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        if name not in extra:
            env.pop(name, None)
    return env


@pytest.mark.parametrize("args", [[], ["gui"], ["gui", "--search", "invoice"]])
def test_no_display_is_one_clear_message(home, args):
    proc = subprocess.run([sys.executable, "-m", "vlagent", *args], cwd=REPO, env=headless_env(home.root),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("vlagent: the desktop app needs a display")
    for said in ("DISPLAY", "WAYLAND_DISPLAY", "'vlagent watch'", "'vlagent serve'", "'vlagent search QUERY'"):
        assert said in proc.stderr
    assert "platform plugin" not in proc.stderr and "Aborted" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_offscreen_is_still_allowed_without_a_display(home):
    app = subprocess.Popen([sys.executable, "-m", "vlagent", "gui", "--no-worker"], cwd=REPO,
                           env=headless_env(home.root, QT_QPA_PLATFORM="offscreen"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        reply = None
        while reply is None and time.monotonic() < deadline and app.poll() is None:
            reply = send_request(home, {"action": "show"})
            time.sleep(0.1)
        assert reply == {"ok": True}, app.stderr.read().decode() if app.poll() is not None else "no reply"
    finally:
        app.send_signal(signal.SIGTERM)
        _, err = app.communicate(timeout=60)
    assert app.returncode == 0, err.decode()
