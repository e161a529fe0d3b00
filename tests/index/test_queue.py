"""The persistent job queue: dedupe, priorities, batches, retries, and recovery of jobs
whose worker died — with a real second process that really dies."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO
from vlagent.index.queue import MAX_ATTEMPTS, PRIO_BACKLOG, PRIO_FRESH, PRIO_INTERACTIVE, JobQueue


@pytest.fixture
def images(index):
    out = []
    for i in range(5):
        image_id, _ = index.add_image(sha256=f"{i:064x}", width=1, height=1, format="PNG", bytes=1, mtime=1.0,
                                      source="import")
        out.append(image_id)
    return out


def test_enqueue_reuses_an_active_job_and_raises_its_priority(index, images):
    q = JobQueue(index)
    j = q.enqueue(images[0], "ocr", priority=PRIO_BACKLOG)
    assert q.enqueue(images[0], "ocr", priority=PRIO_INTERACTIVE) == j
    assert q.get(j)["priority"] == PRIO_INTERACTIVE
    assert q.enqueue(images[0], "ocr", priority=PRIO_BACKLOG) == j
    assert q.get(j)["priority"] == PRIO_INTERACTIVE
    a1 = q.enqueue(images[0], "ask", payload={"q": "1"})
    a2 = q.enqueue(images[0], "ask", payload={"q": "2"})
    assert a1 != a2  # questions are never merged
    with pytest.raises(ValueError):
        q.enqueue(images[0], "dance")


def test_the_database_refuses_two_active_jobs_for_one_image_and_step(index, images):
    q = JobQueue(index)
    q.enqueue(images[0], "ocr")
    with pytest.raises(sqlite3.IntegrityError):
        index.conn.execute("INSERT INTO jobs(image_id, kind, state, created_at, updated_at)"
                           " VALUES (?, 'ocr', 'pending', 0, 0)", (images[0],))


def test_claim_order_and_batches(index, images):
    q = JobQueue(index)
    for i in images[:3]:
        q.enqueue(i, "describe", priority=PRIO_FRESH)
    urgent = q.enqueue(images[3], "describe", priority=PRIO_INTERACTIVE)
    q.enqueue(images[4], "ocr", priority=PRIO_BACKLOG)
    first = q.claim("w", limit=4)
    assert [j.id for j in first] == [urgent]  # a batch never mixes priorities
    batch = q.claim("w", limit={"describe": 2, "ocr": 1})
    assert [j.image_id for j in batch] == images[:2] and all(j.attempts == 1 for j in batch)
    assert [j.image_id for j in q.claim("w", kinds=["ocr"])] == [images[4]]
    assert q.counts() == {"pending": 1, "running": 4, "done": 0, "failed": 0}


def test_fail_retries_until_max_attempts(index, images):
    q = JobQueue(index)
    j = q.enqueue(images[0], "ocr")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        (job,) = q.claim("w")
        assert job.attempts == attempt
        state = q.fail(j, f"boom {attempt}", retry=True)
    assert state == "failed" and q.get(j)["error"] == f"boom {MAX_ATTEMPTS}"
    assert q.claim("w") == []
    assert q.retry_failed() == 1 and q.claim("w")[0].attempts == 1


def test_release_gives_the_attempt_back(index, images):
    q = JobQueue(index)
    q.enqueue(images[0], "ocr")
    (job,) = q.claim("w")
    q.release([job.id])
    assert q.get(job.id)["state"] == "pending" and q.get(job.id)["attempts"] == 0


def test_release_leaves_finished_and_pending_jobs_alone(index, images):
    """A late release (a worker giving back a batch after one job finished) never queues a
    finished job again nor touches one that is not running."""
    q = JobQueue(index)
    done, failed, waiting = (q.enqueue(i, "ocr") for i in images[:3])
    assert {j.id for j in q.claim("w", limit=2)} == {done, failed}
    q.done(done)
    q.fail(failed, "bad image")
    q.release([done, failed, waiting])
    assert [q.get(j)["state"] for j in (done, failed, waiting)] == ["done", "failed", "pending"]
    assert [q.get(j)["attempts"] for j in (done, failed, waiting)] == [1, 1, 0]
    assert [j.id for j in q.claim("w", limit=3)] == [waiting]


def dead_pid() -> int:
    """The id of a process that has ended (on this host)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait(60)
    return p.pid


def test_a_running_job_of_another_host_is_never_taken_for_a_dead_workers(index, images):
    """Process ids only mean something on their own host: a job another machine runs (its pid
    is not alive here) keeps its lease; the same pid on this host is a dead worker's."""
    q = JobQueue(index)
    theirs, ours = q.enqueue(images[0], "ocr"), q.enqueue(images[1], "ocr")
    pid = dead_pid()
    assert q.claim(f"not-{socket.gethostname()}:{pid}:abc123", lease_s=3600)[0].id == theirs
    assert q.claim(f"{socket.gethostname()}:{pid}:abc123", lease_s=3600)[0].id == ours
    (job,) = q.claim("w", limit=2)  # recovers ours (its process is gone), never theirs
    assert job.id == ours and job.attempts == 2
    row = q.get(theirs)
    assert row["state"] == "running" and row["worker"] == f"not-{socket.gethostname()}:{pid}:abc123"
    assert q.claim("w") == []


def test_an_expired_lease_is_taken_back(index, images):
    q = JobQueue(index)
    q.enqueue(images[0], "ocr")
    (job,) = q.claim("other-host:1:x", lease_s=0.05)
    assert q.claim("w") == []
    time.sleep(0.1)
    (again,) = q.claim("w")
    assert again.id == job.id and again.attempts == 2


CLAIM_AND_DIE = """
import os, sys
sys.path.insert(0, sys.argv[2])
from vlagent.index.db import connect
from vlagent.index.store import Index
from vlagent.index.queue import JobQueue, new_worker_id
ix = Index(connect(sys.argv[1]))
jobs = JobQueue(ix).claim(new_worker_id(), lease_s=3600)
print(jobs[0].id, flush=True)
os._exit(0)  # die holding the job: no release, no cleanup
"""


def claim_in_a_process_that_dies(home) -> int:
    out = subprocess.run([sys.executable, "-c", CLAIM_AND_DIE, str(home.db_path), str(REPO)],
                         capture_output=True, text=True, timeout=60, check=True)
    return int(out.stdout.strip())


def test_jobs_of_a_dead_worker_are_recovered_and_poison_jobs_stop(index, images, home):
    q = JobQueue(index)
    j = q.enqueue(images[0], "ocr")
    assert claim_in_a_process_that_dies(home) == j
    assert q.get(j)["state"] == "running"  # the lease (1 h) has not run out …
    (job,) = q.claim("w")  # … but its process is gone: recovered at once
    assert job.id == j and job.attempts == 2
    q.release([j])  # back to one attempt: the first death
    # A job whose worker dies every time it runs it ends as failed instead of looping.
    for _ in range(MAX_ATTEMPTS - 1):
        assert claim_in_a_process_that_dies(home) == j
    assert q.claim("w") == []
    row = q.get(j)
    assert row["state"] == "failed" and "abandoned" in row["error"]
