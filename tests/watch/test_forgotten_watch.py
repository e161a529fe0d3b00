"""A file the user forgot does not come back when the watcher restarts (its start-up scan)
or when the file is touched; the status line counts it as skipped."""

from __future__ import annotations

from tests.watch.util import wait_for, write_png
from vlagent.ingest.pipeline import FORGOTTEN, SKIPPED


def test_a_forgotten_file_is_not_indexed_again_after_a_restart(tmp_path, start_watcher, db, index):
    root = tmp_path / "pics"
    root.mkdir()
    a, b = write_png(root / "a.png", 1), write_png(root / "b.png", 2)
    w = start_watcher(root)
    a_id = wait_for(lambda: db.live_location(a), what="a.png indexed")
    wait_for(lambda: db.live_location(b), what="b.png indexed")
    assert w.stop(30)

    assert index.forget(a_id, keep_out=True)  # what 'vlagent forget' and the app's Forget do
    w = start_watcher(root)  # its start-up scan sees a.png again
    skipped = [o for o in w.outcomes if o.path == str(a)]
    assert [(o.status, o.reason) for o in skipped] == [(SKIPPED, FORGOTTEN)]
    assert db.live_location(a) is None and db.count("images") == 1
    wait_for(lambda: "1 skipped" in w.status.line(), what="the status line to count it")

    a.write_bytes(a.read_bytes())  # saved again, the same picture: a live event
    wait_for(lambda: len([o for o in w.outcomes if o.path == str(a)]) == 2, what="the touch to be looked at")
    assert [o.status for o in w.outcomes if o.path == str(a)] == [SKIPPED, SKIPPED]
    assert db.live_location(a) is None and db.count("images") == 1
