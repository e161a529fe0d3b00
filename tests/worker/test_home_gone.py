"""The data home deleted while the agent runs: the watcher and the worker stop writing (the
index they would write to is an unlinked file), say why in their status lines, and nothing
makes a new home or index behind the user's back."""

from __future__ import annotations

import shutil

from tests.watch.util import wait_for, write_png
from vlagent.index.db import IndexGone


def test_a_deleted_home_stops_the_agent_loudly_and_is_not_made_again(home, settings, tmp_path, ocr_runner):
    from vlagent.worker import Agent

    settings.set("watch.settle_s", 0.3)
    root = tmp_path / "pics"
    for n in range(3):
        write_png(root / f"{n}.png", n)
    agent = Agent(home, settings, [str(root)], worker_kwargs={"engine": None, "runner_factory": ocr_runner})
    outcomes = []
    agent.watcher.add_listener(on_outcome=outcomes.append)
    agent.start()
    try:
        wait_for(lambda: agent.worker.status.done == 3, timeout=60, what="the three OCR jobs")
        assert agent.watcher.counts["new"] == 3

        shutil.rmtree(home.root)
        late = write_png(root / "after.png", 7)  # dropped after the index went: must not be "new"
        wait_for(lambda: not agent.worker.running and not agent.watcher.running, timeout=30,
                 what="both threads to stop")
        assert isinstance(agent.worker.gone, IndexGone) and isinstance(agent.watcher.gone, IndexGone)
        assert "is gone" in agent.worker.status.error and agent.worker.status.state == "stopped"
        assert "is gone" in agent.worker.status.line()
        assert agent.watcher.status.line().startswith("STOPPED: the index ")
        assert agent.watcher.counts["new"] == 3 and str(late) not in [o.path for o in outcomes]
    finally:
        assert agent.stop(30)
    assert not home.root.exists(), "something made the deleted home again"
