"""The inference worker running real OCR jobs from the persistent queue."""

from __future__ import annotations

import threading

import pytest

from tests.watch.util import wait_for
from vlagent.index.queue import PRIO_BACKLOG, PRIO_FRESH, PRIO_SCREENSHOT
from vlagent.vlm.base import VlmError
from vlagent.worker import InferenceWorker


@pytest.fixture
def make_worker(home, settings, ocr_runner):
    workers = []

    def _make(**kw):
        kw.setdefault("runner_factory", ocr_runner)
        kw.setdefault("engine", None)
        kw.setdefault("poll_s", 0.2)
        w = InferenceWorker(home, settings, **kw)
        w.statuses, w.reports = [], []
        w.add_listener(on_status=lambda st: w.statuses.append((st.state, st.queued, dict(st.current or {}))),
                       on_job=w.reports.append)
        workers.append(w)
        return w

    yield _make
    for w in workers:
        assert w.stop(30)


def test_runs_queued_ocr_jobs_and_reports_progress(make_worker, add_text_images, db):
    ids = add_text_images(3, PRIO_FRESH, prefix="progress")
    w = make_worker().start()
    wait_for(lambda: db.count("jobs", "state = 'done'") == 3, timeout=60, what="3 OCR jobs done")
    for image_id in ids:
        text = db.one("SELECT text FROM results WHERE image_id = ? AND kind = 'ocr'", (image_id,))
        assert "progress" in text
    wait_for(lambda: w.status.state == "idle", what="the worker idle again")
    busy = [s for s in w.statuses if s[0] == "busy" and s[2]]
    assert busy and all(s[2]["kind"] == "ocr" for s in busy)
    assert any(s[2].get("name", "").startswith("progress") for s in busy)  # the current file, by name
    assert max(s[1] for s in w.statuses) >= 2 and w.status.queued == 0
    assert w.status.done == 3 and w.status.failed == 0
    assert [r.ok for r in w.reports] == [True] * 3


def test_urgent_work_submitted_during_a_backlog_finishes_first(make_worker, add_text_images, db):
    add_text_images(5, PRIO_BACKLOG, prefix="backlog")
    w = make_worker().start()
    wait_for(lambda: w.status.done >= 1, timeout=60, what="the backlog to start")
    urgent = add_text_images(1, PRIO_SCREENSHOT, prefix="urgent")[0]
    w.wake(PRIO_SCREENSHOT)
    wait_for(lambda: db.count("jobs", "state = 'done'") == 6, timeout=90, what="everything done")
    order = [r.job.image_id for r in w.reports]
    position = order.index(urgent)
    assert len(order) - position - 1 >= 2, f"the urgent job finished at position {position} of {len(order)}"


def test_pause_and_resume_follow_the_privacy_setting(make_worker, add_text_images, settings, db):
    settings.set("privacy.paused", True)
    add_text_images(2, PRIO_FRESH, prefix="paused")
    w = make_worker().start()
    wait_for(lambda: w.statuses and w.statuses[-1][0] == "paused" and w.status.queued == 2,
             what="the worker to report paused with 2 queued")
    assert db.count("jobs", "state = 'pending'") == 2  # nothing was claimed while paused
    settings.set("privacy.paused", False)
    wait_for(lambda: db.count("jobs", "state = 'done'") == 2, timeout=60, what="jobs done after resuming")


def test_stop_in_the_middle_leaves_nothing_running_and_a_restart_finishes(
        make_worker, add_text_images, db):
    ids = add_text_images(4, PRIO_BACKLOG, prefix="shutdown")
    w = make_worker().start()
    wait_for(lambda: w.status.done >= 1, timeout=60, what="a job done")
    assert w.stop(30)
    assert db.count("jobs", "state = 'running'") == 0
    done_before = db.count("jobs", "state = 'done'")
    assert done_before < 4, "everything finished before the stop: nothing was tested"
    assert db.count("jobs", "state = 'pending'") == 4 - done_before
    assert db.count("jobs", "attempts > 1") == 0  # given back, not counted as failed tries
    w2 = make_worker().start()
    wait_for(lambda: db.count("jobs", "state = 'done'") == 4, timeout=90, what="the rest done")
    for image_id in ids:  # each image OCR'd exactly once
        assert db.count("results", "image_id = ? AND kind = 'ocr'", (image_id,)) == 1
    assert w2.status.done == 4 - done_before


def test_cancel_a_queued_job(make_worker, add_text_images, settings, db):
    settings.set("privacy.paused", True)
    ids = add_text_images(2, PRIO_FRESH, prefix="cancel")
    w = make_worker().start()
    job_id = db.one("SELECT id FROM jobs WHERE image_id = ?", (ids[0],))
    w.cancel(job_id)
    wait_for(lambda: db.one("SELECT state FROM jobs WHERE id = ?", (job_id,)) == "failed",
             what="the job cancelled")
    assert db.one("SELECT error FROM jobs WHERE id = ?", (job_id,)) == "cancelled"
    settings.set("privacy.paused", False)
    wait_for(lambda: db.count("jobs", "state = 'done'") == 1, timeout=60, what="the other job done")
    assert db.count("results", "image_id = ?", (ids[0],)) == 0


def test_ask_validates_and_reports_unknown_images(make_worker, add_text_images):
    w = make_worker().start()
    with pytest.raises(ValueError, match="empty"):
        w.ask([1], "   ")
    with pytest.raises(ValueError, match="role"):
        w.ask([1], "what?", history=[("system", "be brief")])
    handle = w.ask([424242], "what is this?")
    with pytest.raises(VlmError, match="no indexed image with id 424242"):
        handle.result(timeout=10)


def test_listeners_run_on_the_worker_thread_and_a_broken_one_is_contained(make_worker, add_text_images, db):
    add_text_images(1, PRIO_FRESH, prefix="listener")
    threads = set()
    w = make_worker()

    def broken(report):
        threads.add(threading.current_thread().name)
        raise RuntimeError("a listener bug must not stop the worker")

    w.add_listener(on_job=broken)
    w.start()
    wait_for(lambda: db.count("jobs", "state = 'done'") == 1, timeout=60, what="the job done despite the listener")
    assert threads == {"vlagent-worker"}
