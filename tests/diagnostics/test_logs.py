"""Log files: the long-running commands write <home>/logs/<command>.log, files rotate at the
configured size keeping the configured number of old files, uncaught exceptions (main
thread and other threads) are logged with their traceback."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.conftest import REPO, cli_env


def test_watch_writes_its_log_and_keeps_the_console_quiet(cli, vlagent_home, text_png):
    image = text_png(["watch log 42"])
    proc = cli("watch", "--once", "--quiet", image.parent)
    assert proc.returncode == 0, proc.stderr_text
    log = (vlagent_home / "logs" / "watch.log").read_text(encoding="utf-8")
    assert "INFO vlagent: vlagent" in log and " watch started (pid " in log
    assert "INFO" not in proc.stderr_text  # the console keeps its WARNING level
    # Short commands write no log file.
    assert cli("search", "watch").returncode == 0
    assert sorted(p.name for p in (vlagent_home / "logs").glob("*.log*")) == ["crashes.log", "watch.log"]


CHILD = r"""
import logging, sys, threading
from vlagent.home import Home
from vlagent.settings import Settings
from vlagent.diagnostics.logfiles import start_file_logging
home = Home.resolve().ensure()
start_file_logging(home, Settings.load(home.config_path), "watch")
log = logging.getLogger("vlagent.test")
for i in range(int(sys.argv[1])):
    log.info("line %04d %s", i, "x" * 60)
t = threading.Thread(target=lambda: 1 / 0, name="doomed")
t.start(); t.join()
raise RuntimeError("boom in main")
"""


def run_child(home, lines: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(lines)], capture_output=True, text=True,
                          env=cli_env(home), cwd=str(REPO), timeout=60)


def test_logs_rotate_at_the_configured_size(cli, vlagent_home):
    assert cli("config", "general.log_max_bytes", "2048").returncode == 0
    assert cli("config", "general.log_backups", "2").returncode == 0
    proc = run_child(vlagent_home, 200)  # ~130 bytes a line: ~26 KB, a dozen rotations
    assert proc.returncode == 1
    logs = vlagent_home / "logs"
    assert sorted(p.name for p in logs.glob("watch.log*")) == ["watch.log", "watch.log.1", "watch.log.2"]
    for p in logs.glob("watch.log*"):
        assert p.stat().st_size <= 2048 + 4096  # one record (a traceback) may overshoot
    # The newest lines survived, in order across the files; the oldest were dropped.
    text = "".join((logs / n).read_text() for n in ("watch.log.2", "watch.log.1", "watch.log"))
    marker = "vlagent.test: line "
    numbers = [int(line.split(marker)[1][:4]) for line in text.splitlines() if marker in line]
    assert numbers == sorted(numbers) and numbers[-1] == 199 and numbers[0] > 0


def test_uncaught_exceptions_are_logged(vlagent_home):
    proc = run_child(vlagent_home, 1)
    assert proc.returncode == 1 and "boom in main" in proc.stderr  # still printed as before
    log = (vlagent_home / "logs" / "watch.log").read_text()
    assert "CRITICAL vlagent: uncaught exception in thread doomed" in log and "ZeroDivisionError" in log
    assert "CRITICAL vlagent: uncaught exception\nTraceback" in log and "RuntimeError: boom in main" in log


CRASHING_CHILD = r"""
import faulthandler, threading
from vlagent.home import Home
from vlagent.settings import Settings
from vlagent.diagnostics.logfiles import start_file_logging
home = Home.resolve().ensure()
start_file_logging(home, Settings.load(home.config_path), "watch")

def deep_in_the_worker():
    faulthandler._sigsegv()  # a real segfault, as a bug in Qt or torch would cause

t = threading.Thread(target=deep_in_the_worker, name="vlagent-worker")
t.start(); t.join()
"""


def test_a_native_crash_writes_the_python_stacks_to_crashes_log(vlagent_home):
    proc = subprocess.run([sys.executable, "-c", CRASHING_CHILD], capture_output=True, text=True,
                          env=cli_env(vlagent_home), cwd=str(REPO), timeout=60)
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    crash = (vlagent_home / "logs" / "crashes.log").read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in crash
    # Every thread's stack: the one that crashed, at the function that crashed, and the main one.
    current, _, others = crash.partition("\nThread 0x")
    assert "Current thread 0x" in current and "in deep_in_the_worker" in current
    assert "in <module>" in others
