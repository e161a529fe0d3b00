"""``vlagent watch`` and ``vlagent purge`` as a user runs them: real subprocesses, real
signals, real folders and a real index."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

import pytest

from tests.conftest import REPO, cli_env
from tests.watch.util import Db, wait_for, write_png


class Agent:
    """A ``vlagent watch`` process whose stderr is collected line by line. ``launcher``: Python
    code run instead of ``-m vlagent`` (it patches something, then calls the CLI with its
    arguments); ``options``: vlagent's own options (before the command)."""

    def __init__(self, home, *args, launcher: str | None = None, options: tuple[str, ...] = ()):
        self.proc = subprocess.Popen(
            [sys.executable, *(("-c", launcher) if launcher else ("-m", "vlagent")), *options,
             "watch", "--status-every", "0.3", *map(str, args)],
            cwd=str(REPO), env=cli_env(home), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self, sig=signal.SIGINT, timeout: float = 60) -> int:
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        self._reader.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def agents():
    started = []

    def _start(home, *args, **kw) -> Agent:
        a = Agent(home, *args, **kw)
        started.append(a)
        return a

    yield _start
    for a in started:
        a.kill()


@pytest.fixture
def fast_config(cli):
    cli("config", "watch.settle_s", "0.3", check=True)


def test_watch_indexes_drops_and_stops_cleanly_on_ctrl_c(tmp_path, vlagent_home, agents, fast_config):
    root = tmp_path / "Pictures"
    root.mkdir()
    db = Db(vlagent_home / "index.db")
    agent = agents(vlagent_home, root)
    wait_for(lambda: agent.saw("watching 1 folder"), what="the start line")
    p = write_png(root / "截图 2024 (1).png", 1)
    image_id = wait_for(lambda: db.live_location(p), timeout=30, what="the drop indexed")
    wait_for(lambda: db.count("results", "image_id = ? AND kind = 'ocr'", (image_id,)) == 1, timeout=60,
             what="its OCR result")
    wait_for(lambda: agent.saw("1 done"), what="the status line to count it")
    assert agent.stop(signal.SIGINT) == 0
    assert db.count("jobs", "state = 'running'") == 0
    assert not any("Traceback" in line for line in agent.lines)


def test_second_instance_is_refused_with_the_pid(tmp_path, vlagent_home, agents, cli):
    root = tmp_path / "p"
    root.mkdir()
    first = agents(vlagent_home, root)
    wait_for(lambda: first.saw("watching"), what="the first agent")
    second = cli("watch", root, timeout=60)
    assert second.returncode == 1
    assert "already running" in second.stderr_text and str(first.proc.pid) in second.stderr_text
    assert first.proc.poll() is None  # the first one is untouched
    assert first.stop(signal.SIGTERM) == 0  # SIGTERM is as clean as Ctrl-C


def test_folders_come_from_the_config_and_once_exits_when_done(tmp_path, vlagent_home, cli):
    root = tmp_path / "from config"
    for i in range(2):
        write_png(root / f"c{i}.png", 10 + i)
    no_folders = cli("watch")
    assert no_folders.returncode == 2 and "watch.folders add" in no_folders.stderr_text
    cli("config", "watch.folders", "add", str(root), check=True)
    assert cli("config", "watch.folders", check=True).stdout_text.strip() == str(root)
    out = cli("watch", "--once", "--json", timeout=180, check=True)
    summary = json.loads(out.stdout_text)
    assert summary["files"]["new"] == 2 and summary["jobs_done"] == 2 and summary["clean"]
    assert summary["folders"] == {str(root): "watching"}
    db = Db(vlagent_home / "index.db")
    assert db.count("results", "kind = 'ocr'") == 2
    again = json.loads(cli("watch", "--once", "--json", timeout=120, check=True).stdout_text)
    assert again["files"].get("unchanged") == 2 and again["jobs_done"] == 0


def test_kill_9_in_a_burst_then_restart_indexes_every_file_exactly_once(
        tmp_path, vlagent_home, agents, fast_config, cli):
    root = tmp_path / "burst"
    root.mkdir()
    db = Db(vlagent_home / "index.db")
    cli("config", "ocr.enabled", "false", check=True)  # the watcher's side only (OCR: the next test)
    agent = agents(vlagent_home, root)
    wait_for(lambda: agent.saw("watching"), what="the agent")
    n = 300
    for i in range(n):
        write_png(root / f"f{i:03}.png", 100 + i)
    wait_for(lambda: db.count("locations") >= 30, timeout=60, what="part of the burst indexed")
    agent.proc.send_signal(signal.SIGKILL)
    agent.proc.wait(10)
    indexed_at_kill = db.count("locations")
    assert indexed_at_kill < n, "the burst was over before the kill: nothing was tested"
    summary = json.loads(cli("watch", root, "--once", "--json", timeout=300, check=True).stdout_text)
    assert summary["files"].get("new", 0) == n - indexed_at_kill
    assert db.count("images") == n and db.count("locations") == n
    assert db.rows("SELECT count(DISTINCT sha256) FROM images") == [(n,)]
    assert db.count("failures") == 0


# ``vlagent`` whose OCR step never ends: a job it takes stays running until the process is killed.
OCR_NEVER_ENDS = """
import sys, threading
from vlagent.jobs import steps
steps.OcrStep.run = lambda self, jobs, images: threading.Event().wait()
from vlagent.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_kill_9_while_a_job_runs_then_restart_runs_it_exactly_once(tmp_path, vlagent_home, agents, cli):
    from vlagent.samples import screenshot_like

    root = tmp_path / "p"
    root.mkdir()
    for i in range(2):
        screenshot_like(seed=i)[0].save(root / f"j{i}.png")
    db = Db(vlagent_home / "index.db")
    agent = agents(vlagent_home, root, launcher=OCR_NEVER_ENDS)
    running = wait_for(lambda: db.rows("SELECT id FROM jobs WHERE state = 'running'"), timeout=60,
                       what="an OCR job running")[0][0]
    agent.proc.send_signal(signal.SIGKILL)
    agent.proc.wait(10)
    assert db.rows("SELECT state, attempts FROM jobs WHERE id = ?", (running,)) == [("running", 1)]
    out = json.loads(cli("watch", root, "--once", "--json", timeout=300, check=True).stdout_text)
    assert out["clean"] and db.count("jobs", "state = 'done'") == 2
    assert db.one("SELECT attempts FROM jobs WHERE id = ?", (running,)) == 2  # taken back from the dead pid
    assert db.rows("SELECT count(*), count(DISTINCT image_id) FROM results WHERE kind = 'ocr'") == [(2, 2)]


def test_pause_set_from_another_process_reaches_the_running_agent(tmp_path, vlagent_home, agents, cli,
                                                                  fast_config):
    root = tmp_path / "p"
    root.mkdir()
    db = Db(vlagent_home / "index.db")
    agent = agents(vlagent_home, root, options=("-vv",))  # -vv: the watcher says when it drops an event
    wait_for(lambda: agent.saw("watching"), what="the agent")
    cli("config", "privacy.paused", "true", check=True)
    wait_for(lambda: agent.saw(" · paused · "), what="the agent to pause")  # its status line
    p = write_png(root / "private moment.png", 5)
    wait_for(lambda: agent.saw("paused: a created event ignored"), what="the file's events to reach it, and go")
    assert db.live_location(p) is None
    cli("config", "privacy.paused", "false", check=True)
    wait_for(lambda: db.live_location(p), timeout=30, what="the rescan after resuming")
    assert agent.stop() == 0


def test_purge_forgets_images_whose_files_are_gone(tmp_path, vlagent_home, cli):
    root = tmp_path / "p"
    keep, gone = write_png(root / "keep.png", 1), write_png(root / "gone.png", 2)
    cli("config", "ocr.enabled", "false", check=True)
    cli("index", root, check=True)
    gone.unlink()
    cli("watch", "--once", root, timeout=120, check=True)  # the backfill notices the missing file
    db = Db(vlagent_home / "index.db")
    assert db.count("images", "gone_at IS NOT NULL") == 1
    off = cli("purge")
    assert off.returncode == 2 and "retention is off" in off.stderr_text
    dry = json.loads(cli("purge", "--older-than", "0", "--dry-run", "--json", check=True).stdout_text)
    assert dry["would_forget"] == 1 and db.count("images") == 2
    assert "forgot 1 image" in cli("purge", "--older-than", "0", check=True).stdout_text
    assert db.count("images") == 1 and db.live_location(keep) is not None
    cli("config", "privacy.retention_days", "30", check=True)
    assert "forgot 0 images" in cli("purge", check=True).stdout_text
