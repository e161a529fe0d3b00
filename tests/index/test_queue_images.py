"""Claiming only the jobs of given images (what ``describe``/``ask`` do with the OCR of the
images they just stored): more urgent work of other images is left for the worker."""

from __future__ import annotations

from vlagent.index.queue import PRIO_BACKLOG, PRIO_INTERACTIVE, JobQueue


def add_images(index, n: int) -> list[int]:
    return [index.add_image(sha256=f"{i:064x}", width=1, height=1, format="PNG", bytes=1, mtime=1.0,
                            source="import")[0] for i in range(n)]


def test_claim_only_the_jobs_of_given_images(index):
    a, b, c = add_images(index, 3)
    q = JobQueue(index)
    urgent = q.enqueue(a, "ocr", priority=PRIO_INTERACTIVE)
    mine = [q.enqueue(b, "ocr", priority=PRIO_BACKLOG), q.enqueue(c, "ocr", priority=PRIO_BACKLOG)]
    q.enqueue(b, "describe", priority=PRIO_INTERACTIVE)

    got = q.claim("w1", kinds=["ocr"], limit=8, image_ids=[b, c])
    assert sorted(j.id for j in got) == sorted(mine)
    assert q.claim("w1", kinds=["ocr"], image_ids=[b, c]) == []  # none of theirs is left
    assert q.claim("w1", kinds=["ocr"], image_ids=[]) == []
    assert q.get(urgent)["state"] == "pending"  # the other image's job waits for the worker
    assert [j.id for j in q.claim("w2", kinds=["ocr"])] == [urgent]
