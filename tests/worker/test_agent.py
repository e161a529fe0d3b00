"""The agent: one per data home, and it follows config.toml changed by another process."""

from __future__ import annotations

import pytest

from tests.watch.util import wait_for
from vlagent.settings import Settings
from vlagent.worker import Agent, AlreadyRunning


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
