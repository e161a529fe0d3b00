from __future__ import annotations

import pytest

from tests.watch.util import Db


@pytest.fixture
def watch_settings(settings):
    """Short waits so the tests run fast; everything else as a user has it."""
    settings.set("watch.settle_s", 0.3)
    settings.set("watch.poll_interval_s", 0.2)
    return settings


@pytest.fixture
def db(home):
    return Db(home.db_path)


@pytest.fixture
def start_watcher(home, watch_settings):
    """Start a real FolderWatcher on real folders; waits until its start-up backfill is done."""
    from vlagent.watch import FolderWatcher

    started = []

    def _start(*folders, settings=None, **kw):
        kw.setdefault("supervise_s", 0.2)
        kw.setdefault("gone_grace_s", 0.2)
        w = FolderWatcher(home, settings or watch_settings, [str(f) for f in folders], **kw)
        outcomes = []
        w.add_listener(on_outcome=outcomes.append)
        w.outcomes = outcomes
        w.start()
        started.append(w)
        assert w.wait_idle(30), "the start-up backfill did not finish"
        return w

    yield _start
    for w in started:
        assert w.stop(30)
