"""``vlagent watch`` whose data home is deleted under it (``rm -rf``): it stops writing, says
why, exits 1, and leaves no new home or index behind."""

from __future__ import annotations

import shutil

from tests.cli.test_watch_cli import Agent
from tests.watch.util import Db, wait_for, write_png


def test_watch_stops_loudly_when_its_home_is_deleted(tmp_path, vlagent_home, cli):
    cli("config", "watch.settle_s", "0.3", check=True)
    cli("config", "ocr.enabled", "false", check=True)
    root = tmp_path / "Pictures"
    for n in range(3):
        write_png(root / f"{n}.png", n)
    db = Db(vlagent_home / "index.db")
    agent = Agent(vlagent_home, root)
    try:
        wait_for(lambda: db.count("images") == 3, timeout=60, what="the three files indexed")
        wait_for(lambda: agent.saw("3 new"), what="the status line to count them")

        shutil.rmtree(vlagent_home)
        write_png(root / "after.png", 9)  # dropped after the index went
        rc = agent.proc.wait(60)  # it stops by itself
        agent._reader.join(5)
    finally:
        agent.kill()
    err = "\n".join(agent.lines)
    assert rc == 1, err
    assert "vlagent: watch stopped: the index " in err and "is gone" in err
    assert "restart vlagent" in err
    assert not agent.saw("4 new")
    assert not vlagent_home.exists(), "a new data home was made behind the user's back"
