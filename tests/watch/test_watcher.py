"""The folder watcher on real folders, with the real inotify observer and a real index."""

from __future__ import annotations

import os
import shutil
import time

from tests.watch.util import png_bytes, sha, wait_for, write_png
from vlagent.index.queue import PRIO_BACKLOG, PRIO_FRESH


def statuses(w, path):
    return [o.status for o in w.outcomes if o.path == str(path)]


def put_off_while_open(w, path) -> bool:
    """Whether the watcher has checked ``path`` after its settle time and rescheduled it as still
    being written (asked on the watcher's own thread)."""
    answer = []

    def ask():
        p = w.settler._pending.get(str(path))
        answer.append(p is not None and p.writing and p.due > p.last_event + w.settler.settle_s)

    w.call_soon(ask)
    return wait_for(lambda: answer, what="the watcher's thread")[0]


def test_drop_is_indexed_with_a_fresh_ocr_job(tmp_path, start_watcher, db):
    root = tmp_path / "pics"
    root.mkdir()
    w = start_watcher(root)
    p = write_png(root / "shot.png", 1)
    image_id = wait_for(lambda: db.live_location(p), what="the dropped file to be indexed")
    assert db.one("SELECT sha256 FROM images WHERE id = ?", (image_id,)) == sha(p)
    assert db.one("SELECT source FROM images WHERE id = ?", (image_id,)) == "folder"
    assert db.rows("SELECT kind, priority, state FROM jobs WHERE image_id = ?", (image_id,)) == \
        [("ocr", PRIO_FRESH, "pending")]
    assert statuses(w, p) == ["new"]


def test_slow_chunked_write_is_indexed_once_after_the_last_chunk(tmp_path, start_watcher, db):
    root = tmp_path / "downloads"
    root.mkdir()
    w = start_watcher(root)
    data = png_bytes(7, size=(400, 300))
    p = root / "slow.png"
    chunks = [data[i:i + len(data) // 5 + 1] for i in range(0, len(data), len(data) // 5 + 1)]
    assert len(chunks) >= 5
    with open(p, "wb") as f:  # like a download: one open file, written a chunk at a time
        for chunk in chunks:
            f.write(chunk)
            f.flush()
            # Not a fixed sleep: the watcher has looked at the file after its settle time and put
            # it off, because it is still open for writing.
            wait_for(lambda: put_off_while_open(w, p), what="the watcher to put off the open file")
            assert db.live_location(p) is None, "read before the writer was done"
    image_id = wait_for(lambda: db.live_location(p), what="the finished file to be indexed")
    assert statuses(w, p) == ["new"]  # one read, after the last chunk: no failed partial read
    assert db.one("SELECT sha256 FROM images WHERE id = ?", (image_id,)) == sha(p)
    assert db.count("failures") == 0


def test_copy_of_an_indexed_file_is_a_duplicate_not_a_new_image(tmp_path, start_watcher, db):
    root = tmp_path / "pics"
    root.mkdir()
    w = start_watcher(root)
    a = write_png(root / "a.png", 2)
    first = wait_for(lambda: db.live_location(a), what="a.png indexed")
    b = root / "copy of a.png"
    shutil.copyfile(a, b)
    assert wait_for(lambda: db.live_location(b), what="the copy indexed") == first
    assert db.count("images") == 1
    assert db.count("jobs", "image_id = ?", (first,)) == 1  # no second OCR
    assert statuses(w, b) == ["duplicate"]


def test_rename_moves_the_location_without_rereading(tmp_path, start_watcher, db):
    root = tmp_path / "pics"
    root.mkdir()
    w = start_watcher(root)
    a = write_png(root / "before.png", 3)
    image_id = wait_for(lambda: db.live_location(a), what="before.png indexed")
    b = root / "after.png"
    os.rename(a, b)
    assert wait_for(lambda: db.live_location(b), what="the new name") == image_id
    assert db.location(a) is None  # the same location row now has the new path
    assert statuses(w, b) == []  # not read again
    assert db.count("jobs") == 1
    assert w.counts["moved"] == 1


def test_move_between_watched_folders(tmp_path, start_watcher, db):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    start_watcher(one, two)
    a = write_png(one / "x.png", 4)
    image_id = wait_for(lambda: db.live_location(a), what="x.png indexed")
    dest = two / "x.png"
    shutil.move(a, dest)
    assert wait_for(lambda: db.live_location(dest), what="the moved file") == image_id
    wait_for(lambda: db.location(a) is None, what="the old location to become the new one")
    assert db.count("locations") == 1 and db.count("images") == 1
    assert db.count("jobs") == 1  # no re-OCR


def test_move_out_of_and_back_into_the_watched_tree(tmp_path, start_watcher, db):
    root, outside = tmp_path / "watched", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    start_watcher(root)
    p = write_png(root / "trip.png", 5)
    image_id = wait_for(lambda: db.live_location(p), what="trip.png indexed")
    shutil.move(p, outside / "trip.png")
    wait_for(lambda: (db.location(p) or (0, None))[1] is not None, what="the location marked gone")
    assert db.one("SELECT gone_at FROM images WHERE id = ?", (image_id,)) is not None
    assert db.count("images") == 1  # kept by default: search still shows it
    shutil.move(outside / "trip.png", p)
    assert wait_for(lambda: db.live_location(p), what="the file back in place") == image_id
    assert db.one("SELECT gone_at FROM images WHERE id = ?", (image_id,)) is None
    assert db.count("jobs") == 1


def test_delete_marks_gone_and_keeps_the_record_and_thumbnail(tmp_path, start_watcher, db, home):
    root = tmp_path / "pics"
    root.mkdir()
    start_watcher(root)
    p = write_png(root / "bye.png", 6)
    image_id = wait_for(lambda: db.live_location(p), what="bye.png indexed")
    p.unlink()
    wait_for(lambda: db.one("SELECT gone_at FROM images WHERE id = ?", (image_id,)), what="image gone")
    thumb = db.one("SELECT thumbnail FROM images WHERE id = ?", (image_id,))
    assert thumb and (home.thumbnails / thumb).exists()


def test_delete_with_keep_gone_off_forgets_the_image(tmp_path, start_watcher, db, home, watch_settings):
    watch_settings.set("watch.keep_gone", False)
    root = tmp_path / "pics"
    root.mkdir()
    start_watcher(root)
    keep = write_png(root / "keep.png", 8)
    p = write_png(root / "bye.png", 9)
    image_id = wait_for(lambda: db.live_location(p), what="bye.png indexed")
    wait_for(lambda: db.live_location(keep), what="keep.png indexed")
    thumb = home.thumbnails / db.one("SELECT thumbnail FROM images WHERE id = ?", (image_id,))
    assert thumb.exists()
    p.unlink()
    wait_for(lambda: db.count("images", "id = ?", (image_id,)) == 0, what="the image to be forgotten")
    assert not thumb.exists()
    assert db.count("results", "image_id = ?", (image_id,)) == 0
    assert db.live_location(keep) is not None  # only what is gone is purged


def test_nested_new_folders_unicode_and_spaces(tmp_path, start_watcher, db):
    root = tmp_path / "pics"
    root.mkdir()
    start_watcher(root)
    deep = root / "a" / "b b" / "深 层"
    deep.mkdir(parents=True)
    p = write_png(deep / "截图 2024 (1).png", 10)
    assert wait_for(lambda: db.live_location(p), what="the file in new nested folders")
    names = db.one("SELECT names FROM search_docs")
    assert "2024" in names


def test_excluded_hidden_and_non_image_files_are_ignored(tmp_path, start_watcher, db, watch_settings):
    root = tmp_path / "pics"
    (root / "private").mkdir(parents=True)
    watch_settings.set("privacy.excluded_folders", [str(root / "private")])
    start_watcher(root)
    ignored = [root / ".hidden.png", root / "part.png.tmp", root / "node_modules" / "x.png",
               root / ".git" / "y.png", root / "private" / "secret.png", root / ".cache" / "c.png"]
    for i, p in enumerate(ignored):
        write_png(p, 20 + i)
    (root / "notes.txt").write_text("not an image")
    sentinel = write_png(root / "zz last.png", 30)  # events are handled in order: when this is in, so are they
    wait_for(lambda: db.live_location(sentinel), what="the sentinel")
    assert db.count("locations") == 1
    assert db.count("failures") == 0


def test_symlink_loop_does_not_hang_or_duplicate(tmp_path, start_watcher, db):
    root = tmp_path / "pics"
    (root / "sub").mkdir(parents=True)
    write_png(root / "sub" / "one.png", 40)
    os.symlink(root, root / "sub" / "loop")
    os.symlink(root / "sub", root / "sub" / "self")
    w = start_watcher(root)  # the backfill walks through the loops and finishes
    assert db.count("locations") == 1
    p = write_png(root / "sub" / "two.png", 41)
    wait_for(lambda: db.live_location(p), what="a live drop next to the loops")
    assert db.count("locations") == 2 and w.counts["failed"] == 0


def test_folder_removed_and_recreated_is_watched_again(tmp_path, start_watcher, db):
    root = tmp_path / "usb"
    root.mkdir()
    w = start_watcher(root)
    a = write_png(root / "a.png", 50)
    wait_for(lambda: db.live_location(a), what="a.png indexed")
    shutil.rmtree(root)
    wait_for(lambda: w.status.folders.get(str(root)) == "missing", what="the folder noticed missing")
    assert (db.location(a) or (0, None))[1] is not None  # its files were deleted: gone
    root.mkdir()
    wait_for(lambda: w.status.folders.get(str(root)) == "watching", what="the folder watched again")
    b = write_png(root / "b.png", 51)
    assert wait_for(lambda: db.live_location(b), what="a drop into the re-created folder")


def test_backfill_indexes_skips_unchanged_and_marks_missing(tmp_path, start_watcher, db):
    root = tmp_path / "pics"
    for i in range(30):
        write_png(root / f"old{i:02}.png", 100 + i, size=(160, 120))
    past = time.time() - 60
    for p in root.iterdir():
        os.utime(p, (past, past))
    w = start_watcher(root)
    assert db.count("locations", "gone_at IS NULL") == 30
    assert {j[3] for j in db.jobs()} == {PRIO_BACKLOG}
    assert w.stop(10)
    (root / "old00.png").unlink()  # while nobody watches
    os.rename(root / "old01.png", root / "renamed.png")
    w2 = start_watcher(root)
    assert w2.counts["unchanged"] == 28  # no re-read, no re-hash
    assert w2.counts["new"] == 0
    assert db.location(root / "old00.png")[1] is not None
    # the renamed file is recognised by content: one image, no new OCR job
    assert db.live_location(root / "renamed.png") is not None
    assert db.count("images") == 30 and db.count("jobs") == 30


def test_a_drop_during_a_long_backfill_is_indexed_live(tmp_path, db, home, watch_settings):
    from vlagent.watch import FolderWatcher

    root = tmp_path / "big"
    n = 60
    past = time.time() - 60  # older than settle_s: the backfill takes them, not the live path
    for i in range(n):
        os.utime(write_png(root / f"f{i:03}.png", 1000 + i), (past, past))
    w = FolderWatcher(home, watch_settings, [str(root)], supervise_s=0.2)
    # A slow listener (it runs on the watcher's thread) stretches the backfill to several seconds.
    w.add_listener(on_outcome=lambda out: time.sleep(0.04))
    w.start()
    try:
        wait_for(lambda: db.count("locations") >= 1, timeout=60, what="the backfill to start")
        p = write_png(root / "dropped meanwhile.png", 5000)
        image_id = wait_for(lambda: db.live_location(p), what="the live drop", timeout=60)
        assert db.count("locations") < n + 1, "the backfill ended first: the test did not test anything"
        assert db.rows("SELECT priority FROM jobs WHERE image_id = ?", (image_id,)) == [(PRIO_FRESH,)]
        assert w.wait_idle(120)
        assert db.count("locations") == n + 1
        assert db.rows("SELECT priority, count(*) FROM jobs GROUP BY priority") == [(PRIO_BACKLOG, n),
                                                                                   (PRIO_FRESH, 1)]
    finally:
        w.stop()


def test_two_thousand_files_at_once(tmp_path, start_watcher, db):
    root = tmp_path / "burst"
    root.mkdir()
    start_watcher(root)
    for i in range(2000):
        write_png(root / f"b{i:04}.png", 20000 + i)
    wait_for(lambda: db.count("locations", "gone_at IS NULL") == 2000, timeout=90,
             what="all 2,000 files indexed")
    assert db.count("images") == 2000
    assert db.count("jobs", "kind = 'ocr'") == 2000
    assert db.count("failures") == 0


def test_pause_ignores_drops_and_resume_catches_up(tmp_path, start_watcher, db, watch_settings):
    root = tmp_path / "pics"
    root.mkdir()
    w = start_watcher(root)
    watch_settings.set("privacy.paused", True)  # live, as the GUI's switch does
    wait_for(lambda: w.status.paused, what="the watcher to pause")
    ignored = w.ignored_events
    p = write_png(root / "while paused.png", 60)
    # The file's events reached the watcher, which dropped them: nothing of it is kept to index.
    wait_for(lambda: w.ignored_events > ignored, what="the watcher to get (and drop) the file's events")
    kept = []
    w.call_soon(lambda: kept.append(len(w.settler)))  # on its thread, after those events
    assert wait_for(lambda: kept, what="the watcher's thread") == [0]
    assert db.live_location(p) is None
    watch_settings.set("privacy.paused", False)
    assert wait_for(lambda: db.live_location(p), what="the rescan after resuming")


def test_polling_observer_follows_drops_and_renames(tmp_path, start_watcher, db, watch_settings):
    watch_settings.set("watch.polling", "always")
    root = tmp_path / "nfs"
    root.mkdir()
    w = start_watcher(root)
    assert w.status.folders[str(root)] == "polling"
    p = write_png(root / "p.png", 70)
    image_id = wait_for(lambda: db.live_location(p), what="a drop seen by polling")
    q = root / "q.png"
    os.rename(p, q)
    assert wait_for(lambda: db.live_location(q), what="the rename seen by polling") == image_id
    assert db.count("jobs") == 1


def test_overwriting_a_file_in_place_indexes_the_new_content(tmp_path, start_watcher, db):
    root = tmp_path / "pics"
    root.mkdir()
    w = start_watcher(root)
    p = write_png(root / "edited.png", 80)
    first = wait_for(lambda: db.live_location(p), what="the first version")
    write_png(p, 81)  # an editor saving over it
    second = wait_for(lambda: (db.live_location(p) or first) != first and db.live_location(p),
                      what="the new version")
    assert db.one("SELECT sha256 FROM images WHERE id = ?", (second,)) == sha(p)
    assert db.one("SELECT gone_at FROM images WHERE id = ?", (first,)) is not None  # its only file changed
    assert statuses(w, p) == ["new", "updated"]


def test_exclude_patterns_changed_live_apply_at_once(tmp_path, start_watcher, db, watch_settings):
    root = tmp_path / "pics"
    root.mkdir()
    w = start_watcher(root)
    watch_settings.list_add("watch.exclude", ["draft*"])  # as the settings dialog does
    wait_for(lambda: any(pat == "draft*" for pat in w.flt.exclude), what="the new filter")
    write_png(root / "draft 1.png", 90)
    sentinel = write_png(root / "final.png", 91)
    wait_for(lambda: db.live_location(sentinel), what="the sentinel")
    assert db.count("locations") == 1


def test_polling_takes_over_when_the_inotify_watch_limit_is_hit(tmp_path, start_watcher, db, monkeypatch):
    import errno

    from watchdog.observers.inotify import InotifyObserver

    def limit_reached(self, *a, **kw):  # what the kernel answers when max_user_watches is used up
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(InotifyObserver, "schedule", limit_reached)
    root = tmp_path / "huge tree"
    root.mkdir()
    w = start_watcher(root)
    assert w.status.folders[str(root)] == "polling"
    p = write_png(root / "still seen.png", 95)
    assert wait_for(lambda: db.live_location(p), what="a drop seen by the polling fallback")


def test_network_file_systems_are_polled_in_auto_mode(tmp_path):
    from vlagent.watch.observers import fs_type, wants_polling

    assert fs_type("/proc/self") == "proc"
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n"
                      "nas:/photos /mnt/nas\\040photos nfs4 rw 0 0\n"
                      "/dev/sdb1 /mnt/nas/local ext4 rw 0 0\n")
    assert fs_type("/mnt/nas photos/2024", str(mounts)) == "nfs4"
    assert wants_polling("/mnt/nas photos/2024", "auto", str(mounts))
    assert not wants_polling("/mnt/nas photos/2024", "never", str(mounts))
    assert not wants_polling("/mnt/nas/local/x", "auto", str(mounts))  # the longest mount point wins
    assert not wants_polling("/home/me/Pictures", "auto", str(mounts)) and wants_polling("/home", "always")
