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
