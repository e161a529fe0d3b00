"""Ingest on real files and a real index: dedupe, metadata, thumbnails, bad inputs, jobs."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import datetime

import pytest
from PIL import Image

from vlagent.ingest.pipeline import DUPLICATE, FAILED, NEW, UNCHANGED, UPDATED, Ingestor
from vlagent.ingest.scan import FileFilter, iter_files
from vlagent.samples import (
    animated_gif,
    encoded,
    exif_rotated_jpeg,
    photo_like,
    png16_gradient,
    screenshot_like,
    write_bad_inputs,
)


@pytest.fixture
def ingestor(index, settings, home):
    return Ingestor(index, settings, home)


def jobs(index, image_id):
    return [(r["kind"], r["state"]) for r in index.query("SELECT kind, state FROM jobs WHERE image_id = ?",
                                                        (image_id,))]


def test_copies_are_one_image_with_two_locations(ingestor, index, tmp_path):
    page, _ = screenshot_like(1920, 1080, lang="mixed", seed=1)
    a = tmp_path / "page.png"
    page.save(a)
    (tmp_path / "sub").mkdir()
    b = tmp_path / "sub" / "page copy.png"
    shutil.copy(a, b)
    first, second = ingestor.ingest_path(str(a)), ingestor.ingest_path(str(b))
    assert (first.status, second.status) == (NEW, DUPLICATE)
    assert first.image_id == second.image_id
    assert index.stats()["images"] == 1
    assert sorted(l["path"] for l in index.locations(first.image_id)) == sorted([str(a), str(b)])
    assert jobs(index, first.image_id) == [("ocr", "pending")]  # one job, not one per copy
    assert ingestor.ingest_path(str(b)).status == UNCHANGED
    assert ingestor.ingest_path(str(b), force=True).status == UNCHANGED


def test_image_record_metadata_and_thumbnail(ingestor, index, home, tmp_path):
    p = tmp_path / "rotated.jpg"
    p.write_bytes(exif_rotated_jpeg(6))
    out = ingestor.ingest_path(str(p), source="folder")
    img = index.image(out.image_id)
    st = os.stat(p)
    assert img["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
    assert (img["width"], img["height"], img["format"], img["bytes"]) == (40, 80, "JPEG", st.st_size)
    assert img["mtime"] == st.st_mtime and img["source"] == "folder" and img["first_seen"] > 0
    assert img["taken_at"] == datetime(2021, 2, 3, 4, 5, 6).timestamp()
    thumb = Image.open(home.thumbnails / img["thumbnail"])
    assert thumb.size == (40, 80)  # upright, and never enlarged
    r, g, b = thumb.getpixel((20, 10))
    assert r > 150 and b < 100  # red on top: the orientation was applied to the pixels


def test_thumbnails_of_big_images_are_small(ingestor, index, home, tmp_path):
    p = tmp_path / "big.jpg"
    photo_like(2000, 1500, seed=2).save(p, quality=85)
    out = ingestor.ingest_path(str(p))
    img = index.image(out.image_id)
    assert (img["width"], img["height"]) == (2000, 1500)
    assert Image.open(home.thumbnails / img["thumbnail"]).size == (320, 240)
    assert set(out.stages) == {"read", "hash", "decode", "thumbnail", "db"}


def test_odd_but_valid_formats_are_indexed(ingestor, index, tmp_path):
    files = {"anim.gif": animated_gif(), "deep.png": png16_gradient(),
             "cmyk.jpg": encoded(Image.new("CMYK", (30, 30), (0, 255, 255, 0)), "JPEG"),
             "alpha.png": encoded(Image.new("RGBA", (30, 30), (0, 0, 0, 0)), "PNG"),
             "photo.webp": encoded(photo_like(200, 150, seed=4), "WEBP")}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out = ingestor.ingest_path(str(tmp_path / name))
        assert out.status == NEW, (name, out.error)
    assert index.stats()["images"] == len(files)


def test_bad_inputs_are_recorded_and_the_rest_indexed(ingestor, index, tmp_path):
    tmp_path = tmp_path / "pictures"
    bad = write_bad_inputs(tmp_path)
    photo_like(300, 200, seed=5).save(tmp_path / "good_photo.jpg")
    screenshot_like(800, 600, seed=6)[0].save(tmp_path / "good_page.png")
    outcomes = {os.path.basename(p): ingestor.ingest_path(p)
                for p in iter_files([tmp_path], FileFilter(frozenset({"png", "jpg"})))}
    assert outcomes["good_photo.jpg"].status == NEW and outcomes["good_page.png"].status == NEW
    want = {"empty": "empty", "truncated_png": "corrupt", "truncated_jpeg": "corrupt",
            "not_an_image": "not_an_image", "bomb": "too_many_pixels"}
    for key, code in want.items():
        out = outcomes[bad[key].name]
        assert (out.status, out.error_type) == (FAILED, code), key
        assert str(bad[key]) in out.error
    recorded = {f["path"]: f["error_type"] for f in index.failures()}
    assert recorded == {str(bad[k]): c for k, c in want.items()}
    assert index.stats()["images"] == 2
    # Fixing a file clears its failure.
    photo_like(300, 200, seed=9).save(bad["truncated_jpeg"])
    assert ingestor.ingest_path(str(bad["truncated_jpeg"])).status == NEW
    assert str(bad["truncated_jpeg"]) not in {f["path"] for f in index.failures()}


def test_a_file_vanishing_between_listing_and_reading(ingestor, index, tmp_path):
    tmp_path = tmp_path / "pictures"
    tmp_path.mkdir()
    for i in range(3):
        photo_like(120, 90, seed=20 + i).save(tmp_path / f"p{i}.png")
    listed = list(iter_files([tmp_path], FileFilter(frozenset({"png"}))))
    os.remove(listed[1])
    os.symlink(tmp_path / "nowhere.png", tmp_path / "dangling.png")  # listed, never readable
    listed += list(iter_files([tmp_path / "dangling.png"], FileFilter(frozenset({"png"}))))
    outcomes = [ingestor.ingest_path(p) for p in listed]
    assert [o.status for o in outcomes] == [NEW, FAILED, NEW, FAILED]
    assert outcomes[1].error_type == "vanished" and "disappeared" in outcomes[1].error
    # A dangling link did not vanish: it says what it is and where it points.
    assert outcomes[3].error_type == "broken_link"
    assert outcomes[3].error == (f"{tmp_path / 'dangling.png'}: a broken symbolic link: it points to "
                                 f"{tmp_path / 'nowhere.png'}, which does not exist")


def test_a_changed_file_is_updated_and_its_old_content_gone(ingestor, index, tmp_path):
    p = tmp_path / "note.png"
    photo_like(100, 80, seed=30).save(p)
    first = ingestor.ingest_path(str(p))
    photo_like(100, 80, seed=31).save(p)
    os.utime(p, (1_700_000_000, 1_700_000_000))
    second = ingestor.ingest_path(str(p))
    assert second.status == UPDATED and second.image_id != first.image_id
    assert index.image(first.image_id)["gone_at"] is not None
    assert index.location(str(p))["image_id"] == second.image_id


def test_rerun_with_ocr_queues_what_an_earlier_run_skipped(ingestor, index, settings, home, tmp_path):
    p = tmp_path / "a.png"
    photo_like(100, 80, seed=40).save(p)
    settings.override("ocr.enabled", False)
    out = ingestor.ingest_path(str(p))
    assert jobs(index, out.image_id) == []
    settings.override("ocr.enabled", True)
    settings.override("vlm.describe", True)
    assert ingestor.ingest_path(str(p)).status == UNCHANGED
    assert sorted(jobs(index, out.image_id)) == [("describe", "pending"), ("ocr", "pending")]
    index.conn.execute("UPDATE jobs SET state = 'failed', error = 'x' WHERE kind = 'ocr'")
    ingestor.ingest_path(str(p))  # a failed job is not silently re-queued on every rescan
    assert sorted(jobs(index, out.image_id)) == [("describe", "pending"), ("ocr", "failed")]


def test_a_backlog_job_is_raised_when_its_file_turns_up_again_as_urgent(ingestor, index, tmp_path):
    from vlagent.index.queue import PRIO_BACKLOG, PRIO_SCREENSHOT

    p = tmp_path / "later.png"
    photo_like(100, 80, seed=41).save(p)
    out = ingestor.ingest_path(str(p), priority=PRIO_BACKLOG, steps=["ocr"])
    ingestor.ingest_path(str(p), priority=PRIO_SCREENSHOT, steps=["ocr"])  # unchanged, now urgent
    rows = index.query("SELECT kind, state, priority FROM jobs WHERE image_id = ?", (out.image_id,))
    assert [(r["kind"], r["state"], r["priority"]) for r in rows] == [("ocr", "pending", PRIO_SCREENSHOT)]


def test_a_missing_thumbnail_is_made_again(ingestor, index, home, tmp_path):
    p = tmp_path / "a.png"
    photo_like(100, 80, seed=50).save(p)
    out = ingestor.ingest_path(str(p))
    thumb = home.thumbnails / index.image(out.image_id)["thumbnail"]
    thumb.unlink()
    shutil.copy(p, tmp_path / "b.png")
    assert ingestor.ingest_path(str(tmp_path / "b.png")).status == DUPLICATE
    assert thumb.exists()


def test_a_thumbnail_left_by_a_killed_run_without_its_record(ingestor, index, home, tmp_path):
    p = tmp_path / "a.jpg"
    p.write_bytes(exif_rotated_jpeg(6))
    prepared = ingestor._prepare(ingestor._check(str(p), [], 0, False))  # killed right after this
    assert (home.thumbnails / prepared.thumb).exists() and index.stats()["images"] == 0
    out = ingestor.ingest_path(str(p))
    assert out.status == NEW
    assert (index.image(out.image_id)["width"], index.image(out.image_id)["height"]) == (40, 80)


def test_many_paths_on_worker_threads_match_one_by_one(index, settings, home, tmp_path):
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(12):
        photo_like(160, 120, seed=70 + i).save(pics / f"p{i:02d}.jpg")
    shutil.copy(pics / "p03.jpg", pics / "p99_copy.jpg")
    (pics / "zz_broken.jpg").write_bytes(b"\xff\xd8 not really")
    paths = sorted(str(p) for p in pics.iterdir())
    outs = list(Ingestor(index, settings, home).ingest_paths(paths, threads=3))
    assert [o.path for o in outs] == paths  # in order
    assert [o.status for o in outs] == [NEW] * 12 + [DUPLICATE, FAILED]
    assert outs[12].image_id == outs[3].image_id
    again = list(Ingestor(index, settings, home).ingest_paths(paths, threads=3))
    assert [o.status for o in again] == [UNCHANGED] * 13 + [FAILED]


def test_ingest_bytes_keeps_an_original_under_the_home(ingestor, index, home):
    data = encoded(photo_like(160, 120, seed=60), "PNG")
    out = ingestor.ingest_bytes(data, source="screenshot", name="capture")
    assert out.status == NEW
    (loc,) = index.locations(out.image_id)
    assert loc["path"].startswith(str(home.captures / "screenshot")) and open(loc["path"], "rb").read() == data
    assert index.image(out.image_id)["source"] == "screenshot"
    assert ingestor.ingest_bytes(data, source="screenshot").status == UNCHANGED
    bad = ingestor.ingest_bytes(b"\x89PNG\r\n\x1a\nnope", source="api", name="upload")
    assert bad.status == FAILED and bad.error_type in ("corrupt", "not_an_image")


def test_half_written_thumbnails_of_a_killed_run_are_swept(index, settings, home):
    partial = home.thumbnails / ".partial"
    partial.mkdir(parents=True)
    stale, fresh = partial / "stale.jpg", partial / "fresh.jpg"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    Ingestor(index, settings, home)
    assert not stale.exists() and fresh.exists()


def test_a_file_another_process_records_meanwhile_is_unchanged_not_a_duplicate(index, settings, home, tmp_path):
    """Two runs indexing the same files at once (three ``index`` runs, or one beside the
    watcher): the run that records a file second finds it already there, with the same
    content at the same path — unchanged, not a duplicate. The other run commits just before
    this one's transaction, after this one had looked (the race of concurrent runs)."""
    from contextlib import contextmanager

    from vlagent.index.store import Index

    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(3):
        photo_like(80, 60, seed=40 + i).save(pics / f"p{i}.png")
    mine = Ingestor(index, settings, home)
    other_index = Index.open(home)  # the other process: its own connection to the same file
    other = Ingestor(other_index, settings, home)
    real = index.transaction
    by_other = []

    @contextmanager
    def other_commits_first():
        if len(by_other) < 3:
            by_other.append(other.ingest_path(current["path"], steps=[]).status)
        with real():
            yield

    current: dict = {}
    index.transaction = other_commits_first
    try:
        outcomes = []
        for name in ("p0.png", "p1.png", "p2.png"):
            current["path"] = str(pics / name)
            outcomes.append(mine.ingest_path(current["path"], steps=[]))
    finally:
        index.transaction = real
        other_index.close()
    assert by_other == [NEW, NEW, NEW]
    assert [o.status for o in outcomes] == [UNCHANGED] * 3
    assert index.conn.execute("SELECT count(*) FROM images").fetchone()[0] == 3
