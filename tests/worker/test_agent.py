"""The agent: one per data home, and it follows config.toml changed by another process."""

from __future__ import annotations

import os
import threading

import pytest

from tests.watch.util import wait_for
from vlagent.settings import Settings
from vlagent.worker import Agent, AlreadyRunning
from vlagent.worker import agent as agent_mod


def test_agent_follows_the_config_file_and_keeps_cli_overrides(home, settings, tmp_path):
    settings.set("ocr.enabled", False, save=True)
    settings.override("watch.settle_s", 0.2)  # a CLI flag: the file must not change it
    folder = tmp_path / "pics"
    folder.mkdir()
    agent = Agent(home, settings, [str(folder)]).start()
    try:
        with pytest.raises(AlreadyRunning):
            Agent(home, Settings.load(home.config_path), [str(folder)]).start()
        other = Settings.load(home.config_path)  # e.g. `vlagent config` in another terminal
        other.set("privacy.paused", True, save=True)
        other.set("watch.settle_s", 5.0, save=True)
        wait_for(lambda: agent.worker.paused and agent.watcher.paused, what="the agent to pause")
        assert settings.get("watch.settle_s") == 0.2 and agent.watcher.settler.settle_s == 0.2
        other.set("privacy.paused", False, save=True)
        wait_for(lambda: not agent.worker.paused and not agent.watcher.paused, what="the agent to resume")
    finally:
        assert agent.stop(30)
    Agent(home, settings, [str(folder)]).start().stop(30)  # the lock was released



@pytest.fixture
def fast_follower(settings, monkeypatch):
    """The config follower checks often (the tests wait on what it does, never on time)."""
    monkeypatch.setattr(agent_mod, "CONFIG_CHECK_S", 0.05)
    settings.set("ocr.enabled", False, save=True)


def test_a_change_saved_before_the_follower_thread_first_runs_is_not_lost(home, settings, fast_follower, tmp_path,
                                                                         monkeypatch):
    """On a loaded machine the follower thread may first run long after start(): a change saved
    in between must still count as a change (the baseline is the file as it was at start)."""
    running = threading.Event()
    go = threading.Event()
    follow = Agent._follow_config

    def held_back(self, *args):
        running.set()
        assert go.wait(30)
        return follow(self, *args)

    monkeypatch.setattr(Agent, "_follow_config", held_back)
    agent = Agent(home, settings, [str(tmp_path)]).start()
    try:
        assert running.wait(30)
        Settings.load(home.config_path).set("privacy.paused", True, save=True)  # before the follower reads anything
        go.set()
        wait_for(lambda: agent.worker.paused and agent.watcher.paused, what="the agent to pause")
    finally:
        go.set()
        assert agent.stop(30)


def _save_keeping_mtime(config, key, value, *, in_place):
    """Save ``key = value`` into ``config`` as another process would, and give the file back
    the mtime it had: two saves within one coarse mtime tick. Atomic (a new file renamed over
    the old one, as Settings.save does) or ``in_place`` (as some editors save)."""
    before = os.stat(config)
    other = Settings.load(config)
    other.path = config.parent / "staged.toml"
    other.set(key, value, save=True)
    if in_place:
        data = other.path.read_bytes()
        other.path.unlink()
        with open(config, "r+b") as f:
            f.write(data)
            f.truncate()
    else:
        os.utime(other.path, ns=(before.st_atime_ns, before.st_mtime_ns))
        os.replace(other.path, config)
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(config)
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    assert (after.st_ino == before.st_ino) == in_place


@pytest.mark.parametrize("in_place", [False, True], ids=["atomic", "in-place"])
def test_saves_within_one_mtime_tick_are_each_seen(home, settings, fast_follower, tmp_path, in_place):
    config = home.config_path
    agent = Agent(home, settings, [str(tmp_path)]).start()
    try:
        Settings.load(config).set("watch.settle_s", 4.0, save=True)
        wait_for(lambda: settings.get("watch.settle_s") == 4.0, what="the first save to be read")
        _save_keeping_mtime(config, "watch.settle_s", 6.0, in_place=in_place)  # same size, same mtime
        wait_for(lambda: settings.get("watch.settle_s") == 6.0, what="the second save to be read")
        # The watcher applies a new setting on its own thread: wait for it there too.
        wait_for(lambda: agent.watcher.settler.settle_s == 6.0, what="the watcher to apply it")
    finally:
        assert agent.stop(30)
