"""The one-agent-per-data-home lock, retention, and the runner's cancellation contract."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.watch.util import write_png
from vlagent.index.queue import PRIO_FRESH, JobQueue
from vlagent.jobs.runner import JobRunner, StepContext
from vlagent.jobs.steps import OcrStep
from vlagent.watch.retention import DAY_S, purge_gone
from vlagent.worker.lock import AlreadyRunning, InstanceLock


def test_lock_refuses_a_second_holder_and_names_the_first(tmp_path):
    first = InstanceLock(tmp_path).acquire()
    with pytest.raises(AlreadyRunning) as e:
        InstanceLock(tmp_path).acquire()
    assert e.value.pid == os.getpid() and str(os.getpid()) in str(e.value)
    assert InstanceLock(tmp_path).holder() == os.getpid()
    first.release()
    assert InstanceLock(tmp_path).holder() is None
    with InstanceLock(tmp_path):
        pass


def test_lock_of_a_killed_process_does_not_block_a_restart(tmp_path):
    code = ("import sys, time; sys.path.insert(0, sys.argv[2]);"
            "from vlagent.worker.lock import InstanceLock; InstanceLock(sys.argv[1]).acquire();"
            "print('locked', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path), os.getcwd()], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"locked"
        with pytest.raises(AlreadyRunning) as e:
            InstanceLock(tmp_path).acquire()
        assert e.value.pid == proc.pid
    finally:
        proc.kill()  # SIGKILL: no chance to clean up
        proc.wait()
    assert (tmp_path / "agent.lock").exists()  # the stale file is still there…
    InstanceLock(tmp_path).acquire().release()  # …and does not matter


def _ingest(index, settings, home, tmp_path, seed):
    from vlagent.ingest.pipeline import Ingestor

    p = write_png(tmp_path / "r" / f"{seed}.png", seed)
    return p, Ingestor(index, settings, home).ingest_path(str(p), priority=PRIO_FRESH).image_id


def test_purge_forgets_only_images_gone_long_enough(index, settings, home, tmp_path):
    old_p, old_id = _ingest(index, settings, home, tmp_path, 1)
    new_p, new_id = _ingest(index, settings, home, tmp_path, 2)
    live_p, live_id = _ingest(index, settings, home, tmp_path, 3)
    now = time.time()
    index.mark_gone(str(old_p), at=now - 10 * DAY_S)
    index.mark_gone(str(new_p), at=now - 1 * DAY_S)
    old_thumb = index.thumbnail_path(index.image(old_id))
    assert old_thumb.exists()
    assert purge_gone(index, gone_before=now - 5 * DAY_S) == 1
    assert index.image(old_id) is None and not old_thumb.exists()
    assert index.image(new_id) is not None and index.image(live_id) is not None
    assert index.query("SELECT * FROM search_docs WHERE image_id = ?", (old_id,)) == []


def test_runner_gives_a_cancelled_batch_back_or_marks_it_cancelled(index, settings, home, tmp_path):
    from vlagent.ocr import create_engine

    _ingest(index, settings, home, tmp_path, 4)
    _ingest(index, settings, home, tmp_path, 5)
    runner = JobRunner(index, settings, worker_id="test:1:a")
    runner.register(OcrStep(lambda: create_engine(settings)))
    queue = JobQueue(index)

    jobs = runner.claim()
    ctx = StepContext()
    ctx.cancel.cancel()  # e.g. the worker is stopping: the batch goes back untouched
    reports = runner.run(jobs, ctx)
    assert [(r.ok, r.state) for r in reports] == [(False, "pending")]
    row = queue.get(jobs[0].id)
    assert row["state"] == "pending" and row["attempts"] == 0

    jobs = runner.claim()
    ctx = StepContext(release_on_cancel=False)  # a user's cancel: the job is dropped
    ctx.cancel.cancel()
    assert [r.state for r in runner.run(jobs, ctx)] == ["cancelled"]
    row = queue.get(jobs[0].id)
    assert (row["state"], row["error"]) == ("failed", "cancelled")
