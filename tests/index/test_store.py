"""The index store on a real SQLite file: images by content, locations, results, forget."""

from __future__ import annotations

import os

import pytest

from vlagent.index.queue import JobQueue
from vlagent.index.search import search
from vlagent.index.store import Result


def add(index, sha="a" * 64, **kw):
    args = dict(sha256=sha, width=10, height=20, format="PNG", bytes=123, mtime=1.0, source="import")
    args.update(kw)
    return index.add_image(**args)


def ids(index, query):
    return [h.image_id for h in search(index.conn, query).hits]


def test_an_image_is_its_content(index):
    a, created = add(index)
    assert created
    again, created = add(index, width=999)
    assert (again, created) == (a, False)
    assert index.image(a)["width"] == 10  # the first record stands
    with pytest.raises(ValueError, match="unknown source"):
        add(index, sha="b" * 64, source="somewhere")


def test_two_paths_one_image_and_the_search_doc_names_both(index):
    a, _ = add(index)
    index.set_location(a, "/pics/holiday_beach.png", size=123, mtime=1.0)
    index.set_location(a, "/backup/copy_of_beach.png", size=123, mtime=1.0)
    assert [l["path"] for l in index.locations(a)] == ["/pics/holiday_beach.png", "/backup/copy_of_beach.png"]
    assert ids(index, "holiday") == [a] and ids(index, "copy_of_beach") == [a]


def test_a_path_that_now_holds_other_bytes_moves_and_the_old_image_is_gone(index):
    a, _ = add(index, sha="a" * 64)
    b, _ = add(index, sha="b" * 64)
    index.set_location(a, "/p/x.png", size=1, mtime=1.0)
    index.set_location(b, "/p/x.png", size=2, mtime=2.0)
    assert index.location("/p/x.png")["image_id"] == b
    assert index.image(a)["gone_at"] is not None and index.image(b)["gone_at"] is None
    assert index.unchanged_location("/p/x.png", 2, 2.0) == b
    assert index.unchanged_location("/p/x.png", 2, 2.5) is None


def test_mark_gone_and_come_back(index):
    a, _ = add(index)
    index.set_location(a, "/p/one.png", size=1, mtime=1.0)
    index.set_location(a, "/q/two.png", size=1, mtime=1.0)
    assert index.mark_gone("/p/one.png") == a
    assert index.image(a)["gone_at"] is None  # still has /q/two.png
    index.mark_gone("/q/two.png")
    assert index.image(a)["gone_at"] is not None
    assert index.unchanged_location("/q/two.png", 1, 1.0) is None
    index.set_location(a, "/q/two.png", size=1, mtime=1.0)
    assert index.image(a)["gone_at"] is None


def test_move_location_keeps_results(index):
    a, _ = add(index)
    index.set_location(a, "/p/old_name.png", size=1, mtime=1.0)
    index.add_result(a, Result(kind="ocr", text="quarterly report", engine="rapidocr"))
    assert index.move_location("/p/old_name.png", "/p/new_name.png") == a
    assert ids(index, "new_name") == [a] and ids(index, "old_name") == []
    assert index.latest_text(a, "ocr") == "quarterly report"


def test_results_replace_per_engine_and_answers_accumulate(index):
    a, _ = add(index)
    index.add_result(a, Result(kind="ocr", text="first 小狗", engine="rapidocr"))
    index.add_result(a, Result(kind="ocr", text="second 雪地", engine="rapidocr", lines=[{"text": "second"}]))
    index.add_result(a, Result(kind="answer", text="yes", engine="t", prompt="is there a dog?"))
    index.add_result(a, Result(kind="answer", text="two", engine="t", prompt="how many?"))
    assert [r["text"] for r in index.results(a, "ocr")] == ["second 雪地"]
    assert index.results(a, "ocr")[0]["lines"] == [{"text": "second"}]
    assert len(index.results(a, "answer")) == 2
    assert ids(index, "雪地") == [a] and ids(index, "小狗") == []
    assert ids(index, "many") == [a]


def test_summaries_read_a_page_of_images_in_one_go(index):
    a, _ = add(index, sha="a" * 64, width=1920)
    b, _ = add(index, sha="b" * 64)
    c, _ = add(index, sha="c" * 64)
    index.set_location(a, "/old/a.png", size=1, mtime=1.0)
    index.set_location(a, "/new/a.png", size=1, mtime=1.0)
    index.mark_gone("/old/a.png")  # seen first, but gone: the present copy is the one to show
    index.set_location(b, "/gone/b.png", size=1, mtime=1.0)
    index.mark_gone("/gone/b.png")
    index.add_result(a, Result(kind="description", text="a dog in the snow", engine="t"))
    index.add_result(a, Result(kind="ocr", text="INVOICE 42", engine="rapidocr"))
    rows = index.summaries([a, b, c, 9999])
    assert set(rows) == {a, b, c}  # an id that is not (or no longer) there is left out
    assert (rows[a]["path"], rows[a]["path_gone"], rows[a]["width"]) == ("/new/a.png", 0, 1920)
    assert (rows[a]["description"], rows[a]["ocr"]) == ("a dog in the snow", "INVOICE 42")
    assert (rows[b]["path"], rows[b]["path_gone"], rows[b]["description"]) == ("/gone/b.png", 1, None)
    assert rows[c]["path"] is None and index.summaries([]) == {}


def test_forget_removes_everything(index, home):
    a, _ = add(index, sha="c" * 64, thumbnail="cc/" + "c" * 64 + ".jpg")
    b, _ = add(index, sha="d" * 64)
    thumb = home.thumbnails / "cc" / ("c" * 64 + ".jpg")
    thumb.parent.mkdir(parents=True)
    thumb.write_bytes(b"jpeg")
    index.set_location(a, "/p/forget_me.png", size=1, mtime=1.0)
    index.set_location(b, "/p/keep_me.png", size=1, mtime=1.0)
    index.add_result(a, Result(kind="ocr", text="secret words", engine="rapidocr"))
    JobQueue(index).enqueue(a, "describe")
    assert index.forget(a)
    for table in ("images", "locations", "results", "jobs", "search_docs"):
        col = "id" if table == "images" else "image_id"
        assert index.conn.execute(f"SELECT count(*) FROM {table} WHERE {col} = ?", (a,)).fetchone()[0] == 0, table
    assert not thumb.exists()
    assert ids(index, "secret") == [] and ids(index, "forget_me") == []
    assert ids(index, "keep_me") == [b]
    assert index.forget(a) is False


def test_resolve_by_id_sha_prefix_and_path(index, tmp_path, monkeypatch):
    a, _ = add(index, sha="0123abcd" + "e" * 56)
    add(index, sha="0123abce" + "f" * 56)
    path = str(tmp_path / "img.png")
    index.set_location(a, path, size=1, mtime=1.0)
    assert index.resolve(str(a))["id"] == a
    assert index.resolve("0123abcd")["id"] == a
    assert index.resolve("0123abc") is None  # too short, and ambiguous anyway
    assert index.resolve(path)["id"] == a
    monkeypatch.chdir(tmp_path)
    assert index.resolve("img.png")["id"] == a
    assert index.resolve(os.path.join("..", tmp_path.name, "img.png"))["id"] == a
    assert index.resolve("999999") is None


def test_failures_keep_the_latest_per_path(index):
    index.record_failure("/p/a.png", "corrupt", "first")
    index.record_failure("/p/a.png", "empty", "second")
    index.record_failure("/p/b.png", "empty", "b")
    assert [(f["path"], f["error"]) for f in index.failures()] == [("/p/b.png", "b"), ("/p/a.png", "second")]
    index.clear_failure("/p/a.png")
    assert index.stats()["failures"] == 1
