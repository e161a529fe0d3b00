"""``vlagent`` with no arguments starts the desktop app (a real process), which answers a
second launch and ends cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.conftest import REPO, cli_env
from vlagent.gui.instance import send_request


def test_plain_vlagent_runs_the_app_and_a_second_launch_is_handed_over(home):
    app = subprocess.Popen([sys.executable, "-m", "vlagent", "--home", str(home.root)], cwd=REPO,
                           env=cli_env(home.root), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        reply = None
        while reply is None and time.monotonic() < deadline and app.poll() is None:
            reply = send_request(home, {"action": "show"})
            time.sleep(0.1)
        assert reply == {"ok": True}, app.stderr.read().decode() if app.poll() is not None else "no reply"
        second = subprocess.run([sys.executable, "-m", "vlagent", "gui", "--search", "发票"], cwd=REPO,
                                env=cli_env(home.root), capture_output=True, timeout=60)
        assert second.returncode == 0
        assert "already running" in second.stdout.decode()
    finally:
        app.send_signal(signal.SIGTERM)
        out, err = app.communicate(timeout=60)
    assert app.returncode == 0, err.decode()
    assert send_request(home, {"action": "show"}) is None  # the socket went with it


def test_gui_help_lists_its_options(cli):
    out = cli("gui", "--help", check=True).stdout_text
    for flag in ("--search", "--background", "--no-worker", "--no-tray", "--model"):
        assert flag in out
