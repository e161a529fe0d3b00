"""The persistent job queue, in the index database.

pending → running → done | failed. A job is claimed with a lease; a process killed while
holding one leaves a 'running' job whose lease runs out, and the next claimer takes it
back (``recover``). Results are written in the same transaction that marks the job done,
so a kill at any moment neither loses nor duplicates work.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vlagent.index.db import transaction
from vlagent.index.textcodec import to_db

if TYPE_CHECKING:
    from vlagent.index.store import Index

# Priorities: higher runs first.
PRIO_INTERACTIVE = 100  # someone is waiting for the answer
PRIO_SCREENSHOT = 80    # a fresh capture
PRIO_FRESH = 60         # a freshly dropped / indexed file
PRIO_BACKLOG = 20       # backfill and background describing
# The model's steps for an image run after its fast OCR at the same freshness.
MODEL_STEP_OFFSET = -10

JOB_KINDS = ("ocr", "describe", "transcribe", "ask")
MODEL_KINDS = ("describe", "transcribe", "ask")  # the kinds that run the vision-language model
MAX_ATTEMPTS = 3
LEASE_S = 600.0


@dataclass
class Job:
    id: int
    image_id: int | None
    kind: str
    priority: int
    attempts: int
    payload: dict[str, Any]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Job:
        return cls(id=row[0], image_id=row[1], kind=row[2], priority=row[3], attempts=row[4],
                   payload=json.loads(row[5]) if row[5] else {})


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobQueue:
    def __init__(self, index: Index):
        self.index = index
        self.conn = index.conn

    def enqueue(self, image_id: int | None, kind: str, *, priority: int = PRIO_FRESH,
                payload: dict[str, Any] | None = None) -> int | None:
        """Add a job; an identical pending/running job (same image and kind) is reused, and
        its priority raised if the new one is more urgent. Returns the job id."""
        if kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        now = time.time()
        with transaction(self.index.db):
            if kind != "ask":
                r = self.conn.execute(
                    "SELECT id, priority FROM jobs WHERE image_id IS ? AND kind = ? AND state IN ('pending','running')",
                    (image_id, kind),
                ).fetchone()
                if r:
                    if priority > r[1]:
                        self.conn.execute("UPDATE jobs SET priority = ?, updated_at = ? WHERE id = ?",
                                          (priority, now, r[0]))
                    return int(r[0])
            cur = self.conn.execute(
                "INSERT INTO jobs(image_id, kind, priority, state, payload, created_at, updated_at)"
                " VALUES (?,?,?,'pending',?,?,?)",
                (image_id, kind, priority, json.dumps(payload, ensure_ascii=False) if payload else None, now, now),
            )
            return cur.lastrowid

    def claim(self, worker: str, *, kinds: Iterable[str] | None = None, limit: int | dict[str, int] = 1,
              lease_s: float = LEASE_S, image_ids: Iterable[int] | None = None) -> list[Job]:
        """Take the most urgent pending job, plus up to ``limit - 1`` more of the same kind and
        priority (``limit`` may map kind → batch size). ``image_ids``: only jobs of these images."""
        kinds = tuple(kinds or JOB_KINDS)
        images = tuple(image_ids) if image_ids is not None else None
        if images is not None and not images:
            return []
        of_images = f" AND image_id IN ({','.join('?' * len(images))})" if images is not None else ""
        now = time.time()
        with transaction(self.index.db):
            self._recover_expired(now)
            self._recover_dead_workers(now)
            marks = ",".join("?" * len(kinds))
            first = self.conn.execute(
                f"SELECT id, image_id, kind, priority, attempts, payload FROM jobs WHERE state = 'pending'"
                f" AND kind IN ({marks}){of_images} ORDER BY priority DESC, id LIMIT 1",
                (*kinds, *(images or ())),
            ).fetchone()
            if first is None:
                return []
            rows = [first]
            if isinstance(limit, dict):
                limit = limit.get(first[2], 1)
            if limit > 1:
                # A batch shares the first job's kind and priority so urgent work is never held back.
                rows += self.conn.execute(
                    "SELECT id, image_id, kind, priority, attempts, payload FROM jobs WHERE state = 'pending'"
                    f" AND kind = ? AND priority = ? AND id != ?{of_images} ORDER BY id LIMIT ?",
                    (first[2], first[3], first[0], *(images or ()), limit - 1),
                ).fetchall()
            ids = [r[0] for r in rows]
            self.conn.execute(
                f"UPDATE jobs SET state = 'running', worker = ?, lease_until = ?, attempts = attempts + 1,"
                f" updated_at = ? WHERE id IN ({','.join('?' * len(ids))})",
                (worker, now + lease_s, now, *ids),
            )
            return [Job.from_row(r[:4] + (r[4] + 1,) + r[5:]) for r in rows]

    def _recover_dead_workers(self, now: float) -> int:
        """Running jobs of a process on this host that no longer exists go back to pending."""
        host = socket.gethostname()
        n = 0
        for (worker,) in self.conn.execute("SELECT DISTINCT worker FROM jobs WHERE state = 'running'").fetchall():
            parts = (worker or "").split(":")
            if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
                continue
            if not _pid_alive(int(parts[1])):
                n += self._requeue_abandoned("worker = ?", (worker,), now)
        return n

    def _recover_expired(self, now: float) -> int:
        return self._requeue_abandoned("lease_until < ?", (now,), now)

    def _requeue_abandoned(self, where: str, params: tuple[Any, ...], now: float) -> int:
        """Running jobs matching ``where`` go back to pending — or to failed once they have
        used up their attempts, so a job that kills its worker every time cannot loop forever."""
        failed = self.conn.execute(
            "UPDATE jobs SET state = 'failed', error = ?, worker = NULL, lease_until = NULL, updated_at = ?"
            f" WHERE state = 'running' AND attempts >= ? AND {where}",
            (f"abandoned {MAX_ATTEMPTS} times (the worker crashed or was killed while running it)", now,
             MAX_ATTEMPTS, *params)).rowcount
        return failed + self.conn.execute(
            "UPDATE jobs SET state = 'pending', worker = NULL, lease_until = NULL, updated_at = ?"
            f" WHERE state = 'running' AND {where}", (now, *params)).rowcount

    def recover(self, *, worker_prefix: str | None = None, all_running: bool = False) -> int:
        """Return abandoned 'running' jobs to 'pending'.

        ``all_running`` is for a process that knows it is the only worker (e.g. after checking
        that no other instance runs); otherwise only expired leases are taken back.
        """
        now = time.time()
        with transaction(self.index.db):
            if all_running:
                return self._requeue_abandoned("1", (), now)
            if worker_prefix:
                return self._requeue_abandoned("worker LIKE ?", (worker_prefix + "%",), now)
            return self._recover_expired(now)

    def done(self, job_id: int) -> None:
        self.conn.execute(
            "UPDATE jobs SET state = 'done', error = NULL, worker = NULL, lease_until = NULL, updated_at = ?"
            " WHERE id = ?", (time.time(), job_id))

    def fail(self, job_id: int, error: str, *, retry: bool = False) -> str:
        """Record a failure; with ``retry`` the job goes back to pending until MAX_ATTEMPTS."""
        with transaction(self.index.db):
            r = self.conn.execute("SELECT attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
            state = "pending" if retry and r and r[0] < MAX_ATTEMPTS else "failed"
            self.conn.execute(
                "UPDATE jobs SET state = ?, error = ?, worker = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
                (state, to_db(error[:4000]), time.time(), job_id),
            )
            return state

    def release(self, job_ids: Iterable[int]) -> None:
        """Give claimed jobs back untouched (shutdown, preemption, pause)."""
        ids = list(job_ids)
        if not ids:
            return
        self.conn.execute(
            f"UPDATE jobs SET state = 'pending', worker = NULL, lease_until = NULL, attempts = max(attempts - 1, 0),"
            f" updated_at = ? WHERE state = 'running' AND id IN ({','.join('?' * len(ids))})",
            (time.time(), *ids),
        )

    def cancel(self, job_id: int) -> bool:
        return self.conn.execute(
            "UPDATE jobs SET state = 'failed', error = 'cancelled', updated_at = ? WHERE id = ? AND state = 'pending'",
            (time.time(), job_id)).rowcount > 0

    def retry_failed(self, kind: str | None = None) -> int:
        sql = "UPDATE jobs SET state = 'pending', attempts = 0, error = NULL, updated_at = ? WHERE state = 'failed'"
        params: list[Any] = [time.time()]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        return self.conn.execute(sql, params).rowcount

    def get(self, job_id: int) -> dict[str, Any] | None:
        return self.index.query_one("SELECT * FROM jobs WHERE id = ?", (job_id,))

    def pending_count(self, kinds: Iterable[str] | None = None, *, image_ids: Iterable[int] | None = None) -> int:
        """Pending and running jobs of ``kinds``; only those of ``image_ids`` when given."""
        kinds = tuple(kinds or JOB_KINDS)
        sql = ("SELECT count(*) FROM jobs WHERE state IN ('pending','running')"
               f" AND kind IN ({','.join('?' * len(kinds))})")
        if image_ids is None:
            n: int = self.conn.execute(sql, kinds).fetchone()[0]
            return n
        ids = list(image_ids)
        return sum(self.conn.execute(sql + f" AND image_id IN ({','.join('?' * len(chunk))})",
                                     (*kinds, *chunk)).fetchone()[0]
                   for chunk in (ids[i:i + 900] for i in range(0, len(ids), 900)))

    def counts(self) -> dict[str, int]:
        out = {"pending": 0, "running": 0, "done": 0, "failed": 0}
        for state, n in self.conn.execute("SELECT state, count(*) FROM jobs GROUP BY state"):
            out[state] = n
        return out

    def purge_done(self, older_than_s: float = 7 * 86400) -> int:
        return self.conn.execute("DELETE FROM jobs WHERE state = 'done' AND updated_at < ?",
                                 (time.time() - older_than_s,)).rowcount
