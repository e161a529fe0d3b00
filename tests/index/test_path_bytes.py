"""File names that are not UTF-8 (legal on Linux) through the index on a real SQLite file: the
exact bytes come back from every read, folder range queries still find them, and valid paths
are stored exactly as before (no migration)."""

from __future__ import annotations

import os

import pytest

from vlagent.index.queue import JobQueue
from vlagent.index.search import Filters
from vlagent.index.textcodec import ESC, from_db, to_db

BAD = os.fsdecode(b"/pics/b_\xff\xfe.png")  # '/pics/b_\udcff\udcfe.png'
BAD_DIR = os.fsdecode(b"/pics/caf\xe9")  # a folder named in Latin-1


def add(index, sha, **kw):
    args = dict(sha256=sha, width=10, height=20, format="PNG", bytes=123, mtime=1.0, source="import")
    args.update(kw)
    return index.add_image(**args)[0]


@pytest.mark.parametrize("text", [
    "/pics/plain.png", "/pics/小狗 1.png", BAD, BAD_DIR + "/x.png", f"/pics/{ESC}.png", f"/pics/{ESC}dcff.png",
    f"/pics/{ESC}{ESC}", "/pics/\U0001f600\n\x1b[31m.png", os.fsdecode(b"\xed\xa0\x80"),
])
def test_the_stored_form_is_bindable_and_gives_the_exact_text_back(text):
    stored = to_db(text)
    stored.encode("utf-8")  # what sqlite3 needs: raises on a lone surrogate
    assert from_db(stored) == text
    assert os.fsencode(from_db(stored)) == os.fsencode(text)


def test_a_valid_path_is_stored_as_it_is(index):
    """Rows written before this encoding existed read back the same: a valid path is stored
    unchanged, and only a lone surrogate (or the escape character itself) is written otherwise."""
    assert to_db("/pics/小狗 1.png") == "/pics/小狗 1.png"
    image = add(index, "a" * 64)
    index.set_location(image, "/pics/小狗 1.png", size=1, mtime=1.0)
    index.set_location(image, BAD, size=1, mtime=1.0)
    raw = [r[0] for r in index.conn.execute("SELECT path FROM locations ORDER BY id")]
    assert raw == ["/pics/小狗 1.png", f"/pics/b_{ESC}dcff{ESC}dcfe.png"]


def test_every_read_of_a_location_gives_the_exact_bytes(index):
    image = add(index, "a" * 64)
    index.set_location(image, BAD, size=5, mtime=2.0)
    assert index.location(BAD)["image_id"] == image
    assert index.unchanged_location(BAD, 5, 2.0) == image
    (loc,) = index.locations(image)
    assert os.fsencode(loc["path"]) == b"/pics/b_\xff\xfe.png"
    detail = index.detail(image)
    assert detail["path"] == BAD and detail["paths"] == [BAD]
    summary = index.image_summaries([image])[image]
    assert (summary.path, summary.paths) == (BAD, (BAD,))
    assert index.resolve(BAD)["id"] == image
    assert next(index.iter_images())["path"] == BAD
    # renamed, gone: the same path is found
    moved = os.fsdecode(b"/pics/\x80moved.png")
    assert index.move_location(BAD, moved) == image
    assert index.location(BAD) is None and index.location(moved)["image_id"] == image
    assert index.mark_gone(moved) == image
    assert index.image_summaries([image])[image].path == moved


def test_the_live_paths_under_a_folder_include_names_that_are_not_utf8(index):
    """The folder range query (the watcher's reconcile) pages through such paths, and a
    folder whose own name is not UTF-8 holds its files and nothing else."""
    image = add(index, "a" * 64)
    inside = [BAD_DIR + "/a.png", BAD_DIR + os.fsdecode(b"/b\xff.png"), BAD_DIR + "/sub/c.png"]
    outside = [BAD_DIR + "x/d.png", os.fsdecode(b"/pics/caf\xe8/e.png"), "/pics/caf/f.png", BAD]
    for path in inside + outside:
        index.set_location(image, path, size=1, mtime=1.0)
    assert sorted(index.live_paths_under(BAD_DIR)) == sorted(inside)
    paged, after = [], None
    while page := index.live_paths_under(BAD_DIR, after=after, limit=1):
        paged += page
        after = page[-1]
    assert paged == index.live_paths_under(BAD_DIR) and len(paged) == 3
    assert index.live_paths_under("/pics") == sorted(index.live_paths_under("/pics"), key=to_db)
    assert set(index.live_paths_under("/pics")) == set(inside + outside)


def test_failures_and_job_errors_that_quote_such_a_path(index):
    index.record_failure(BAD, "corrupt", f"{BAD}: truncated image data")
    (f,) = index.failures()
    assert (f["path"], f["error"]) == (BAD, f"{BAD}: truncated image data")
    index.clear_failure(BAD)
    assert index.failures() == []
    image = add(index, "a" * 64)
    q = JobQueue(index)
    job = q.enqueue(image, "ocr")
    q.claim("w")
    q.fail(job, f"cannot read {BAD}")
    assert index.detail(image)["jobs"][0]["error"] == f"cannot read {BAD}"


def test_search_finds_such_a_file_by_name_and_by_folder(index):
    image = add(index, "a" * 64)
    index.set_location(image, BAD_DIR + os.fsdecode(b"/holiday_\xff.png"), size=1, mtime=1.0)
    other = add(index, "b" * 64)
    index.set_location(other, "/pics/cafe/holiday.png", size=1, mtime=1.0)
    page = index.search_page("holiday")
    assert {h.image_id for h in page.hits} == {image, other}
    hit = next(h for h in page.hits if h.image_id == image)
    assert hit.image.path == BAD_DIR + os.fsdecode(b"/holiday_\xff.png")
    assert "\ufffd" in hit.snippet  # the undecodable byte, shown as U+FFFD in the indexed name
    in_folder = index.search_page("holiday", filters=Filters(folder=BAD_DIR))
    assert [h.image_id for h in in_folder.hits] == [image]
