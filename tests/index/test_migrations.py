from vlagent.index.db import connect
from vlagent.index.migrations import MIGRATIONS, schema_version


def test_migrations_recorded_and_idempotent(tmp_path):
    db = connect(tmp_path / "i.db")
    assert schema_version(db) == MIGRATIONS[-1][0]
    rows = list(db.conn.execute("SELECT version, name FROM _migrations"))
    assert [r[0] for r in rows] == [m[0] for m in MIGRATIONS]
    db.conn.close()
    db = connect(tmp_path / "i.db")  # reopening applies nothing twice
    assert db.conn.execute("SELECT count(*) FROM _migrations").fetchone()[0] == len(MIGRATIONS)
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"images", "locations", "results", "jobs", "search_docs", "search_fts"} <= set(db.table_names())


def _old_index(path, monkeypatch, versions: int):
    """An index as the schema of the first ``versions`` migrations made it (an older vlagent)."""
    from vlagent.index import migrations

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:versions])
    db = connect(path)
    monkeypatch.undo()
    assert schema_version(db) == versions
    return db


def test_ids_are_never_reused_after_upgrading_an_old_index(tmp_path, monkeypatch):
    from vlagent.index.store import Index, Result

    db = _old_index(tmp_path / "i.db", monkeypatch, 2)
    c = db.conn
    for n in (1, 2, 3):  # three images, each with a location, a result, a job and a search entry
        c.execute("INSERT INTO images(id, sha256, width, height, source, first_seen) VALUES (?, ?, 4, 3, 'import', ?)",
                  (n, f"{n:064x}", float(n)))
        c.execute("INSERT INTO locations(image_id, path, seen_at) VALUES (?, ?, 0)", (n, f"/pics/{n}.png"))
        c.execute("INSERT INTO results(image_id, kind, text, engine, created_at) VALUES (?, 'ocr', ?, 'rapidocr', 0)",
                  (n, f"receipt number{n}"))
        c.execute("INSERT INTO jobs(image_id, kind, state, created_at, updated_at) VALUES (?, 'describe', 'pending', 0, 0)",
                  (n,))
        c.execute("INSERT INTO search_docs(image_id, ocr) VALUES (?, ?)", (n, f"receipt number{n}"))
    db.conn.close()

    index = Index(connect(tmp_path / "i.db"))  # the upgrade
    try:
        assert index.schema_version() == MIGRATIONS[-1][0]
        assert "AUTOINCREMENT" in index.conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'images'").fetchone()[0]
        assert index.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert index.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # Nothing was lost on the way (dropping the old table cascades nowhere).
        assert [r["id"] for r in index.query("SELECT id FROM images ORDER BY id")] == [1, 2, 3]
        for table in ("locations", "results", "jobs", "search_docs"):
            assert index.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 3, table
        assert [h.image_id for h in index.search("number2").hits] == [2]
        assert index.conn.execute("SELECT name FROM sqlite_master WHERE name = 'images_first_seen'").fetchone()

        # Forget the newest: the next image gets a new id, never #3 again.
        assert index.forget(3)
        new_id, created = index.add_image(sha256="f" * 64, width=1, height=1, format="PNG", bytes=1, mtime=0.0,
                                          source="import")
        assert created and new_id == 4
        assert index.image(3) is None
        # The references still cascade: forgetting an image takes its rows with it.
        index.add_result(new_id, Result(kind="ocr", text="fresh", engine="rapidocr"))
        assert index.forget(1)
        assert index.conn.execute("SELECT count(*) FROM results WHERE image_id = 1").fetchone()[0] == 0
        assert index.conn.execute("SELECT count(*) FROM jobs WHERE image_id = 1").fetchone()[0] == 0
    finally:
        index.close()


def test_ids_are_never_reused_in_a_new_index(tmp_path):
    from vlagent.index.store import Index

    index = Index(connect(tmp_path / "i.db"))
    try:
        ids = [index.add_image(sha256=f"{n:064x}", width=1, height=1, format="PNG", bytes=1, mtime=0.0,
                               source="import")[0] for n in (1, 2)]
        assert index.forget(ids[-1])
        index.close()
        index = Index(connect(tmp_path / "i.db"))  # reopened: the highest id given is kept in the file
        new_id = index.add_image(sha256="e" * 64, width=1, height=1, format="PNG", bytes=1, mtime=0.0,
                                 source="import")[0]
        assert new_id not in ids and new_id > max(ids)
    finally:
        index.close()


def test_job_ids_are_never_reused_after_upgrading_or_forgetting(tmp_path, monkeypatch):
    from vlagent.index.queue import JobQueue
    from vlagent.index.store import Index

    db = _old_index(tmp_path / "i.db", monkeypatch, 4)
    c = db.conn
    for n in (1, 2):
        c.execute("INSERT INTO images(id, sha256, width, height, source, first_seen) VALUES (?, ?, 4, 3, 'import', ?)",
                  (n, f"{n:064x}", float(n)))
        c.execute("INSERT INTO jobs(image_id, kind, state, payload, created_at, updated_at)"
                  " VALUES (?, 'describe', 'pending', '{\"p\": 1}', 0, 0)", (n,))
    db.conn.close()

    index = Index(connect(tmp_path / "i.db"))  # the upgrade
    try:
        sql = index.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'jobs'").fetchone()[0]
        assert "AUTOINCREMENT" in sql
        names = {r[0] for r in index.conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'jobs'")}
        assert {"jobs_one_active", "jobs_pick", "jobs_image"} <= names
        queue = JobQueue(index)
        assert [(j["id"], j["image_id"], j["payload"]) for j in (queue.get(1), queue.get(2))] == [
            (1, 1, '{"p": 1}'), (2, 2, '{"p": 1}')]
        assert index.forget(2)  # its job (the newest) goes with it
        assert queue.get(2) is None
        new_id, _ = index.add_image(sha256="f" * 64, width=1, height=1, format="PNG", bytes=1, mtime=0.0,
                                    source="import")
        job = queue.enqueue(new_id, "describe")
        assert job not in (1, 2) and job > 2  # a client polling job 2 never sees another image's job
    finally:
        index.close()
