"""A watch folder from the config that does not exist (yet): ``vlagent watch`` names it, says
it is watched when it appears, and the status line says why it counts 0 of 1 — then, once
the folder is made, what is dropped there is indexed."""

from __future__ import annotations

import signal

from tests.cli.test_watch_cli import Agent
from tests.watch.util import Db, wait_for, write_png


def test_a_missing_folder_is_named_and_watched_when_it_appears(tmp_path, vlagent_home, cli):
    root = tmp_path / "Screenshots"
    cli("config", "watch.folders", "add", str(root), check=True)
    cli("config", "watch.settle_s", "0.3", check=True)
    agent = Agent(vlagent_home)
    try:
        wait_for(lambda: agent.saw(f"{root} does not exist (yet): it is watched when it appears"), timeout=60,
                 what="the start line naming the missing folder")
        wait_for(lambda: agent.saw(f"0/1 folders · missing: {root} (watched when it appears)"), timeout=60,
                 what="the status line saying why")
        root.mkdir()
        p = write_png(root / "later.png", 3)
        db = Db(vlagent_home / "index.db")
        wait_for(lambda: db.live_location(p), timeout=60, what="the drop indexed once the folder appeared")
        wait_for(lambda: agent.saw("1/1 folders"), timeout=30, what="the status line counting it")
        assert agent.stop(signal.SIGINT) == 0
    finally:
        agent.kill()
    assert not any("Traceback" in line for line in agent.lines)
