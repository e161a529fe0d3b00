"""What the rest of vlagent asks the Index (instead of speaking SQL to it), on a real SQLite
file with real rows: a page of hits with their display fields, paths under a folder, purge
candidates, an image's result kinds and jobs, the integrity check, transactions."""

from __future__ import annotations

import dataclasses
import os
import sqlite3

import pytest

from vlagent.index import store as store_mod
from vlagent.index.db import fts5_available
from vlagent.index.migrations import MIGRATIONS
from vlagent.index.queue import JobQueue
from vlagent.index.rows import HitPage, HitRow, ImageSummary, PurgeCandidate
from vlagent.index.search import HL_END, HL_START, Filters, search
from vlagent.index.store import Index, Result


def add(index, sha, *, thumbnail=None, source="folder", **kw):
    args = dict(sha256=sha * 64, width=640, height=480, format="PNG", bytes=1234, mtime=1.0, source=source,
                thumbnail=thumbnail)
    args.update(kw)
    return index.add_image(**args)[0]


@pytest.fixture
def corpus(index):
    """a: two files (the first seen is gone), OCR twice and a description; b: its only file
    gone; c: no file at all, an answer only."""
    a = add(index, "a", thumbnail="aa/a.jpg", taken_at=123.0)
    b = add(index, "b", source="import")
    c = add(index, "c", source="api")
    index.set_location(a, "/pics/old/invoice.png", size=1, mtime=1.0)
    index.set_location(a, "/pics/new/invoice.png", size=1, mtime=1.0)
    index.set_location(a, "/pics/zz/invoice copy.png", size=1, mtime=1.0)
    index.mark_gone("/pics/old/invoice.png")
    index.add_result(a, Result(kind="ocr", text="INVOICE 2024 old", engine="rapidocr"))
    index.add_result(a, Result(kind="ocr", text="INVOICE 2024 total 42.50", engine="other"))
    index.add_result(a, Result(kind="description", text="A scanned invoice.", engine="vlm"))
    index.set_location(b, "/pics/gone/invoice-b.png", size=1, mtime=1.0)
    index.mark_gone("/pics/gone/invoice-b.png")
    index.add_result(b, Result(kind="ocr", text="invoice reminder", engine="rapidocr"))
    index.add_result(c, Result(kind="answer", text="an invoice from ACME", engine="vlm", prompt="what is it?"))
    return a, b, c


def old_cli_record(index, image_id):
    """What ``vlagent search`` built per hit before, with four queries of its own."""
    img = index.image(image_id)
    locs = index.locations(image_id)
    live = [loc["path"] for loc in locs if loc["gone_at"] is None]
    thumb = index.thumbnail_path(img)
    return {"path": live[0] if live else (locs[0]["path"] if locs else None), "paths": live,
            "gone_at": img["gone_at"], "ocr": index.latest_text(image_id, "ocr"),
            "description": index.latest_text(image_id, "description"),
            "source": img["source"], "width": img["width"], "height": img["height"], "format": img["format"],
            "sha256": img["sha256"], "first_seen": img["first_seen"], "taken_at": img["taken_at"],
            "thumbnail": str(thumb) if thumb else None}


def new_cli_record(image: ImageSummary):
    return {"path": image.path, "paths": list(image.paths), "gone_at": image.gone_at, "ocr": image.ocr or "",
            "description": image.description or "", "source": image.source, "width": image.width,
            "height": image.height, "format": image.format, "sha256": image.sha256,
            "first_seen": image.first_seen, "taken_at": image.taken_at, "thumbnail": image.thumbnail_file}


def test_search_page_gives_each_hit_what_it_shows(index, corpus, home):
    a, b, c = corpus
    page = index.search_page("invoice")
    assert isinstance(page, HitPage) and all(isinstance(h, HitRow) for h in page.hits)
    plain = search(index.conn, "invoice")
    assert [h.image_id for h in page.hits] == [h.image_id for h in plain.hits] and {a, b, c} == set(
        h.image_id for h in page.hits)
    assert (page.total, page.total_exact, page.relaxed, page.query, page.fts, page.more) == \
        (plain.total, plain.total_exact, plain.relaxed, plain.query, plain.fts, None)
    assert [(h.score, h.snippet, h.snippet_from) for h in page.hits] == \
        [(h.score, h.snippet, h.fields["snippet_from"]) for h in plain.hits]
    hit = {h.image_id: h for h in page.hits}
    assert HL_START + "INVOICE" + HL_END in hit[a].snippet
    for image_id in (a, b, c):  # the same record the CLI built with per-hit queries
        assert new_cli_record(hit[image_id].image) == old_cli_record(index, image_id)
    ia = hit[a].image
    assert ia.paths == ("/pics/new/invoice.png", "/pics/zz/invoice copy.png")
    assert (ia.path, ia.path_gone, ia.gone_at, ia.taken_at) == ("/pics/new/invoice.png", False, None, 123.0)
    assert (ia.ocr, ia.description) == ("INVOICE 2024 total 42.50", "A scanned invoice.")  # the latest
    assert (ia.thumbnail, ia.thumbnail_file) == ("aa/a.jpg", str(home.thumbnails / "aa" / "a.jpg"))
    ib = hit[b].image
    assert (ib.path, ib.path_gone, ib.paths, ib.source, ib.description) == \
        ("/pics/gone/invoice-b.png", True, (), "import", None)
    assert ib.gone_at is not None and ib.thumbnail_file is None
    ic = hit[c].image
    assert (ic.path, ic.path_gone, ic.paths, ic.ocr) == (None, False, (), None)
    assert hit[c].snippet_from == "answers"
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit[a].score = 1.0


def test_search_page_pages_filters_relaxes_and_looks_ahead(index, corpus):
    a, b, c = corpus
    ids = [h.image_id for h in index.search_page("invoice", sort="date").hits]
    assert ids == [c, b, a]
    first = index.search_page("invoice", sort="date", limit=2, look_ahead=True)
    assert [h.image_id for h in first.hits] == [c, b] and first.more is True and first.total == 3
    last = index.search_page("invoice", sort="date", limit=2, offset=2, look_ahead=True)
    assert [h.image_id for h in last.hits] == [a] and last.more is False
    assert [h.image_id for h in index.search_page("invoice", filters=Filters(source="import")).hits] == [b]
    assert index.search_page("zebra invoice").hits == ()
    loose = index.search_page("zebra invoice", relax=True)
    assert loose.relaxed and {h.image_id for h in loose.hits} == {a, b, c}
    recent = index.search_page("", limit=2)
    assert [h.image_id for h in recent.hits] == [c, b] and recent.hits[0].snippet == ""
    assert recent.hits[0].snippet_from is None and recent.search_ms >= 0


def test_search_page_leaves_out_images_forgotten_meanwhile(index, corpus, monkeypatch):
    a, b, c = corpus
    real = Index.search

    def search_then_forget(self, *args, **kw):
        page = real(self, *args, **kw)
        self.forget(b)  # another connection's forget, between the search and the rows
        return page

    monkeypatch.setattr(Index, "search", search_then_forget)
    page = index.search_page("invoice", sort="date", limit=2, look_ahead=True)
    assert [h.image_id for h in page.hits] == [c] and page.more is True


def test_index_search_is_the_module_search(index, corpus):
    for query, kw in [("invoice", {}), ("2024", {"sort": "date"}), ("acme zebra", {"relax": True}),
                      ("invoice", {"filters": Filters(folder="/pics/new"), "limit": 1})]:
        mine, theirs = index.search(query, **kw), search(index.conn, query, **kw)
        assert (mine.hits, mine.total, mine.relaxed, mine.fts) == (theirs.hits, theirs.total, theirs.relaxed,
                                                                   theirs.fts)


def test_image_summaries_and_their_dict_view(index, corpus, monkeypatch):
    a, b, c = corpus
    monkeypatch.setattr(store_mod, "_MAX_PARAMS", 2)  # several statements for one call
    rows = index.image_summaries([c, a, 9999, b])
    assert set(rows) == {a, b, c} and index.image_summaries([]) == {}
    assert rows[a].paths == ("/pics/new/invoice.png", "/pics/zz/invoice copy.png")
    d = index.summaries([a, b])
    assert (d[a]["path"], d[a]["path_gone"], d[b]["path_gone"], d[a]["thumbnail"]) == \
        ("/pics/new/invoice.png", 0, 1, "aa/a.jpg")
    assert list(d[a]) == ["id", "source", "first_seen", "width", "height", "bytes", "thumbnail", "gone_at", "path",
                          "path_gone", "description", "ocr"]


def test_paths_in_the_order_first_seen_even_when_seen_at_ties(index):
    a = add(index, "d")
    for p in ("/x/3.png", "/x/1.png", "/x/2.png"):
        index.set_location(a, p, size=1, mtime=1.0)
    index.conn.execute("UPDATE locations SET seen_at = 1000.0")
    assert index.image_summaries([a])[a].paths == ("/x/3.png", "/x/1.png", "/x/2.png")


def test_live_paths_under_a_folder(index):
    a = add(index, "e")
    for p in ("/pics/a.png", "/pics/sub/deep/b.png", "/pics/sub/c.png", "/pics2/d.png", "/pic.png",
              "/pics/gone.png", "/other/pics/e.png"):
        index.set_location(a, p, size=1, mtime=1.0)
    index.mark_gone("/pics/gone.png")
    under = ["/pics/a.png", "/pics/sub/c.png", "/pics/sub/deep/b.png"]
    assert index.live_paths_under("/pics") == under
    assert index.live_paths_under("/pics" + os.sep) == under
    assert index.live_paths_under("/pics/sub") == ["/pics/sub/c.png", "/pics/sub/deep/b.png"]
    assert index.live_paths_under("/nothing") == []
    assert index.live_paths_under("/pics", limit=2) == under[:2]
    assert index.live_paths_under("/pics", after="/pics/a.png", limit=1) == ["/pics/sub/c.png"]
    assert index.live_paths_under("/pics", after=under[-1]) == []
    assert len(index.live_paths_under("/")) == 6


def test_purge_candidates(index):
    old, new, back, live = (add(index, s) for s in "fghi")
    for image_id, path in ((old, "/p/old.png"), (new, "/p/new.png"), (back, "/p/back.png"), (live, "/p/live.png")):
        index.set_location(image_id, path, size=1, mtime=1.0)
    index.mark_gone("/p/new.png", at=200.0)
    index.mark_gone("/p/old.png", at=100.0)
    index.mark_gone("/p/back.png", at=50.0)
    index.set_location(back, "/p/back-again.png", size=1, mtime=1.0)  # a file of it is present again
    got = index.purge_candidates(1000.0)
    assert got == [PurgeCandidate(old, 100.0), PurgeCandidate(new, 200.0)]
    assert index.purge_candidates(1000.0, 1) == [PurgeCandidate(old, 100.0)]
    assert index.purge_candidates(1000.0, 0) == got  # 0: no limit
    assert index.purge_candidates(150.0) == [PurgeCandidate(old, 100.0)]
    assert index.purge_candidates(100.0) == []


def test_result_kinds_and_jobs_of_an_image(index):
    a, b = add(index, "j"), add(index, "k")
    assert index.result_kinds(a) == set() and index.ended_job_kinds(a) == set() and index.active_job_count(a) == 0
    index.add_result(a, Result(kind="ocr", text="x", engine="rapidocr"))
    index.add_result(a, Result(kind="answer", text="y", engine="vlm", prompt="?"))
    index.add_result(a, Result(kind="answer", text="z", engine="vlm", prompt="?"))
    assert index.result_kinds(a) == {"ocr", "answer"} and index.result_kinds(b) == set()
    queue = JobQueue(index)
    ocr, describe, transcribe = (queue.enqueue(a, k) for k in ("ocr", "describe", "transcribe"))
    queue.enqueue(b, "ocr")
    assert index.active_job_count(a) == 3
    [job] = queue.claim("w", kinds=["ocr"], limit=1)
    assert job.id == ocr and index.active_job_count(a) == 3  # running counts too
    queue.done(ocr)
    queue.fail(describe, "boom")
    assert index.active_job_count(a) == 1 and index.active_job_count(b) == 1
    assert index.ended_job_kinds(a) == {"ocr", "describe"} and index.ended_job_kinds(b) == set()


def test_integrity_check_schema_version_and_fts5(index):
    assert index.integrity_check() == "ok"
    assert index.schema_version() == max(m[0] for m in MIGRATIONS)
    assert fts5_available() is True


def test_transaction_commits_rolls_back_and_nests(index, home):
    other = Index.open(home, readonly=True)
    try:
        with index.transaction():
            a = add(index, "m")
            with index.transaction():  # joins the outer one
                index.set_location(a, "/t/a.png", size=1, mtime=1.0)
            assert index.conn.in_transaction and other.image(a) is None  # not committed yet
        assert not index.conn.in_transaction and other.image(a) is not None
        with pytest.raises(RuntimeError), index.transaction():
            b = add(index, "n")
            with index.transaction():
                raise RuntimeError("undo it all")
        assert not index.conn.in_transaction and index.image(b) is None and other.image(b) is None
        assert index.location("/t/a.png")["image_id"] == a
    finally:
        other.close()


def test_a_write_transaction_is_taken_at_once(index, home):
    other = Index.open(home)
    other.conn.execute("PRAGMA busy_timeout = 0")
    try:
        with index.transaction(), pytest.raises(sqlite3.OperationalError, match="locked"), other.transaction():
            pass
    finally:
        other.close()
